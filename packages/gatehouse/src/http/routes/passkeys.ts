import type { PasskeyDTO } from "../../core/passkeys.js";
import { inputs } from "../inputs.js";
import { jsonResponse } from "../response.js";
import type { Route } from "../router.js";
import { answeringWith } from "./mfa.js";

const passkeyJson = (passkey: PasskeyDTO) => ({
  id: passkey.id,
  name: passkey.name,
  createdAt: passkey.createdAt.toISOString(),
  lastUsedAt: passkey.lastUsedAt?.toISOString() ?? null,
});

/** Registering and managing passkeys, and signing in with one. */
export const passkeyRoutes: readonly Route[] = [
  {
    path: "passkeys",
    method: "GET",
    signedIn: true,
    async handle({ gatehouse, auth, renewed }) {
      const passkeys = await gatehouse.listPasskeys(auth.user.id);
      return jsonResponse(200, { passkeys: passkeys.map(passkeyJson) }, renewed);
    },
  },
  {
    path: "passkeys/register/options",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, body, meta, renewed }) {
      const { options, setCookie } = await gatehouse.passkeyRegistrationOptions(auth, inputs.freshAuth(body), meta);
      return jsonResponse(200, options, [...renewed, setCookie]);
    },
  },
  {
    path: "passkeys/register",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, body, meta, renewed }) {
      const { passkey, clearChallenge } = await gatehouse.registerPasskey(auth, inputs.registerPasskey(body), meta);
      return jsonResponse(201, { passkey: passkeyJson(passkey) }, [...renewed, clearChallenge]);
    },
    // The signed-in user's own device answered wrongly: bad input, not a failed sign-in.
    onError: answeringWith("invalid_passkey", 400),
  },
  {
    path: "passkeys/:id",
    method: "PATCH",
    signedIn: true,
    async handle({ gatehouse, auth, body, param, renewed }) {
      const passkey = await gatehouse.renamePasskey(auth.user.id, param, inputs.passkeyName(body));
      return jsonResponse(200, { passkey: passkeyJson(passkey) }, renewed);
    },
  },
  {
    path: "passkeys/:id",
    method: "DELETE",
    signedIn: true,
    async handle({ gatehouse, auth, body, param, meta, renewed }) {
      await gatehouse.deletePasskey(auth, param, inputs.freshAuth(body), meta);
      return jsonResponse(200, { ok: true }, renewed);
    },
  },
  {
    path: "passkeys/login/options",
    method: "POST",
    async handle({ gatehouse, meta }) {
      const { options, setCookie } = await gatehouse.passkeyLogInOptions(meta);
      return jsonResponse(200, options, [setCookie]);
    },
  },
  {
    path: "passkeys/login",
    method: "POST",
    async handle({ gatehouse, body, meta }) {
      const loggedIn = await gatehouse.logInWithPasskey(inputs.passkeyLogIn(body), meta);
      return jsonResponse(200, { user: loggedIn.user }, [
        loggedIn.setCookie,
        loggedIn.deviceCookie,
        loggedIn.clearChallenge,
      ]);
    },
  },
];
