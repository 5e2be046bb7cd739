import { describe, expect, it } from "vitest";
import { templates } from "./templates.js";

const context = { appName: 'Acme <"Shop">' };
const url = "https://app.example.com/reset-password?token=abc&x=<y>";

describe("email templates", () => {
  it("put the whole link in the text part and an escaped one in the HTML part", () => {
    const mail = templates.resetPassword(context, "ada@example.com", url, 3600);
    expect(mail.to).toBe("ada@example.com");
    expect(mail.subject).toBe('Reset your Acme <"Shop"> password');
    expect(mail.text).toContain(`Choose a new password: ${url}`);
    expect(mail.text).toContain("for 1 hour");
    expect(mail.html).toContain('href="https://app.example.com/reset-password?token=abc&amp;x=&lt;y&gt;"');
    expect(mail.html).toContain("Acme &lt;&quot;Shop&quot;&gt;");
    expect(mail.html).not.toMatch(/<y>|<"Shop">/);
  });

  it("say how long links last, in hours or minutes", () => {
    expect(templates.verifyEmailLink(context, "a@example.com", url, 86_400).text).toContain("for 24 hours");
    expect(templates.confirmEmailChange(context, "a@example.com", url, 1800).text).toContain("for 30 minutes");
  });

  it("carry the code, not a link, for code verification", () => {
    const mail = templates.verifyEmailCode(context, "a@example.com", "01234567", 3600);
    expect(mail.subject).toContain("01234567");
    expect(mail.text).not.toMatch(/https?:/);
  });

  it("warn the current address of a requested change, with no link to follow", () => {
    const mail = templates.emailChangeRequested(context, "old@example.com", "new@example.com");
    expect(mail.text).toContain("from old@example.com to new@example.com");
    expect(mail.text).toMatch(/reset your password/i);
    expect(mail.text).not.toMatch(/https?:/);
  });

  it("tell the old address where the account went, and a taken address that nothing changed", () => {
    expect(templates.emailChanged(context, "old@example.com", "new@example.com").text).toContain(
      "from old@example.com to new@example.com",
    );
    expect(templates.emailInUse(context, "taken@example.com").text).toContain("Nothing was changed");
  });
});
