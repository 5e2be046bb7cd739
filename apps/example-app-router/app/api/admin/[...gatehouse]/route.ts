import { adminHandlers } from "@/lib/auth";

// The same admin API as the Pages Router app's pages/api/admin/[...gatehouse].ts.
export const { GET, POST, PATCH, DELETE } = adminHandlers;
