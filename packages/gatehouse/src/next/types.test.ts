/**
 * What the guards' types infer, as a user writes them: checked by `tsc` (the `expectTypeOf` calls are type
 * assertions), and run by vitest so that a guard built this way is a real handler.
 */
import type { InferGetServerSidePropsType, NextApiRequest, NextApiResponse } from "next";
import { describe, expectTypeOf, it } from "vitest";
import type { UserDTO } from "../core/dto.js";
import type { Gatehouse } from "../core/gatehouse.js";
import { withApiAuth } from "./api.js";
import { withPageAuth } from "./pages.js";
import type { Auth } from "./session.js";

/** Never called: the guards resolve the instance per request. */
const getGatehouse = (): Gatehouse => {
  throw new Error("not called");
};

describe("the guards' types", () => {
  it("give withApiAuth's handler NextApiRequest, NextApiResponse and the Auth, in every order", () => {
    const plain = withApiAuth(getGatehouse, (req, res, auth) => {
      expectTypeOf(req).toEqualTypeOf<NextApiRequest>();
      expectTypeOf(res).toEqualTypeOf<NextApiResponse>();
      expectTypeOf(auth).toEqualTypeOf<Auth>();
      res.status(200).json({ user: auth.user });
    });
    expectTypeOf(plain).toEqualTypeOf<(req: NextApiRequest, res: NextApiResponse) => Promise<void>>();
    const others = [
      withApiAuth(getGatehouse, { permission: "users:read" }, (req, res, { user }) => {
        expectTypeOf(req.query).toEqualTypeOf<NextApiRequest["query"]>();
        res.json({ user });
      }),
      withApiAuth(getGatehouse, (_req, res) => res.json({}), { role: "admin" }),
    ];
    for (const handler of others) expectTypeOf(handler).toEqualTypeOf(plain);
  });

  it("narrow a guarded page's props on forbidden, without casts", () => {
    const getServerSideProps = withPageAuth(getGatehouse, { permission: "users:read" }, async () => ({
      props: { users: [] as UserDTO[] },
    }));
    type Props = InferGetServerSidePropsType<typeof getServerSideProps>;
    // Before `forbidden` is ruled out the page's own props are not there (the 403 and 503 props lack them).
    expectTypeOf<Props>().not.toHaveProperty("users");
    expectTypeOf<Props["forbidden"]>().toEqualTypeOf<boolean | undefined>();
    const render = (props: Props): UserDTO[] | null => {
      if (props.forbidden) return null;
      const { users, session } = props;
      expectTypeOf(session.user).toEqualTypeOf<UserDTO>();
      return users;
    };
    expectTypeOf(render).parameter(0).toHaveProperty("session");
    const bare = withPageAuth(getGatehouse);
    const loaderOnly = withPageAuth(getGatehouse, async (_context, { user }) => ({ props: { email: user.email } }));
    expectTypeOf<InferGetServerSidePropsType<typeof bare>["session"]>().toMatchTypeOf<{ user: UserDTO | null }>();
    const email = (props: InferGetServerSidePropsType<typeof loaderOnly>) => (props.forbidden ? null : props.email);
    expectTypeOf(email).returns.toEqualTypeOf<string | null>();
  });
});
