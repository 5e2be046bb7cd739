import { adminConsoleSuite } from "./support/admin-console";

// The suite is shared with the App Router example, whose admin console is the same views over its router.
adminConsoleSuite("pages");
