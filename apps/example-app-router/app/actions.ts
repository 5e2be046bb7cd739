"use server";

import { formValue } from "@shared/lib/forms";
import { getGatehouse } from "@shared/lib/gatehouse";
import { isGatehouseError, profileInput } from "gatehouse-auth";
import type { ActionState } from "gatehouse-auth/next/app";
import { revalidatePath } from "next/cache";
import { actions, guardAction } from "@/lib/auth";

// The forms' Server Actions; each form keeps its state with `useActionState`. The library's actions check the
// call's Origin and run the auth API's routes, so they answer with the same error codes and limits.

export async function logIn(state: ActionState, form: FormData): Promise<ActionState> {
  return actions.logIn(state, form);
}

export async function signUp(state: ActionState, form: FormData): Promise<ActionState> {
  return actions.signUp(state, form);
}

export async function logOut(state: ActionState, form: FormData): Promise<ActionState> {
  return actions.logOut(state, form);
}

export async function requestPasswordReset(state: ActionState, form: FormData): Promise<ActionState> {
  return actions.requestPasswordReset(state, form);
}

export async function resetPassword(state: ActionState, form: FormData): Promise<ActionState> {
  return actions.resetPassword(state, form);
}

export async function verifyEmail(state: ActionState, form: FormData): Promise<ActionState> {
  return actions.verifyEmail(state, form);
}

/**
 * The signed-in user's display name, as `PATCH /api/me` sets it: only the name (an empty field removes it),
 * never the role.
 */
export const rename = guardAction(async ({ user }, _state: ActionState, form: FormData): Promise<ActionState> => {
  const name = formValue(form, "name");
  try {
    await getGatehouse().updateProfile(user.id, profileInput({ name }));
  } catch (error) {
    if (!isGatehouseError(error)) throw error;
    return { ok: false, error: { code: error.code, message: error.message, fields: error.fields }, values: { name } };
  }
  // The profile's details are rendered on the server: show the new name there.
  revalidatePath("/profile");
  return { ok: true };
});
