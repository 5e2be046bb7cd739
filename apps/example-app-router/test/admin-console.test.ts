import { adminConsoleSuite } from "../../example/test/support/admin-console";

// The same suite as the Pages Router example's: the admin console is the same views over this router.
adminConsoleSuite("app-router");
