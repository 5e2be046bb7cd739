import { type ReactNode, useState } from "react";
import { SuccessNotice } from "./SuccessNotice";

/**
 * New recovery codes, shown this once (the server keeps only their hashes): to copy, to download as a text
 * file, and to confirm as saved, which closes them.
 */
export function RecoveryCodes({
  title,
  email,
  codes,
  onDone,
}: {
  title: string;
  /** Whose codes they are, for the heading of the downloaded file. */
  email: string;
  codes: readonly string[];
  onDone: () => void;
}): ReactNode {
  const [copied, setCopied] = useState<{ ok: boolean; message: string } | null>(null);
  const file = `Recovery codes for ${email} (Gatehouse example). Each one works once.\n\n${codes.join("\n")}\n`;

  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(codes.join("\n"));
      setCopied({ ok: true, message: "The codes are copied to your clipboard." });
    } catch {
      setCopied({ ok: false, message: "They could not be copied here: select them and copy them yourself." });
    }
  }

  return (
    <>
      <SuccessNotice title={title}>
        <p>
          Save these recovery codes somewhere safe, such as your password manager. If you lose your authenticator app,
          each one lets you log in once. They are not shown again.
        </p>
      </SuccessNotice>
      <ol className="recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div className="actions">
        <button type="button" className="button button--secondary" onClick={() => void copy()}>
          Copy codes
        </button>
        {/* A data: link saves the file without any script of ours. */}
        <a
          className="button button--secondary"
          href={`data:text/plain;charset=utf-8,${encodeURIComponent(file)}`}
          download="gatehouse-recovery-codes.txt"
        >
          Download (.txt)
        </a>
        <button type="button" className="button" onClick={onDone}>
          I have saved them
        </button>
      </div>
      <p role="status" className={copied?.ok === false ? "muted" : "status--success"}>
        {copied?.message}
      </p>
    </>
  );
}
