import { handlers } from "@/lib/auth";

// The same HTTP API as the Pages Router app's pages/api/auth/[...gatehouse].ts.
export const { GET, POST, PATCH, DELETE } = handlers;
