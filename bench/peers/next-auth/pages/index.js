export default function Home() {
  return <p>next-auth 4 peer app for the Gatehouse bench: GET /api/me, GET /api/health.</p>;
}
