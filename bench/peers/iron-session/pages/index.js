export default function Home() {
  return <p>iron-session peer app for the Gatehouse bench: GET /api/me, GET /api/health.</p>;
}
