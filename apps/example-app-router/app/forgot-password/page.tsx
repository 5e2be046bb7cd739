import type { ReactNode } from "react";
import { titled } from "@/lib/metadata";
import { ForgotPasswordForm } from "./ForgotPasswordForm";

export const metadata = titled("Forgot your password?");

export default function ForgotPasswordPage(): ReactNode {
  return <ForgotPasswordForm />;
}
