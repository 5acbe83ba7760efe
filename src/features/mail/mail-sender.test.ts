import nodemailer from "nodemailer";
import { describe, expect, it } from "vitest";
import { VisitorPassConfigError } from "../../core/errors.js";
import type { LinkMessage } from "../../core/send-link.js";
import { Visitor, type VisitorRecord } from "../../core/visitor.js";
import { defaultMailTemplates, mailSender, subjectLine } from "./index.js";

const T0 = new Date("2026-12-02T10:00:00.000Z");
const URL_ = "https://app.example/reference?topic=a&vuid=0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const HOSTILE = '<script>alert("x")</script>\r\nBcc: all@evil.example';

function visitor(changes: Partial<VisitorRecord> = {}): Visitor {
  return new Visitor(
    {
      id: 7,
      uuid: "0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
      firstName: "Ginger",
      lastName: "Rogers",
      email: "ginger@example.org",
      scope: "REFERENCE_REQUEST",
      context: null,
      createdAt: T0,
      lastUpdatedAt: T0,
      expiresAt: new Date("2026-12-05T14:30:00.000Z"),
      isActive: true,
      sessionExpiry: 0,
      maxUses: null,
      uses: 0,
      ...changes,
    },
    () => T0,
  );
}

function message(
  changes: Partial<VisitorRecord> = {},
  reason: LinkMessage["reason"] = "selfService",
): LinkMessage {
  return { visitor: visitor(changes), url: URL_, reason };
}

interface JsonMail {
  from: { address: string; name: string };
  to: { address: string; name: string }[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

/** A jsonTransport transporter that keeps each mail it was given, as nodemailer built it. */
function recordingTransport() {
  const transporter = nodemailer.createTransport({ jsonTransport: true });
  const sent: JsonMail[] = [];
  const sendMail = transporter.sendMail.bind(transporter);
  const wrapped = {
    sendMail: async (mail: Parameters<typeof sendMail>[0]) => {
      const info = await sendMail(mail);
      sent.push(JSON.parse(String((info as { message: string }).message)));
      return info;
    },
  };
  return { transport: wrapped, sent };
}

/** Everything nodemailer would put on the wire, headers first. */
async function rawMessage(send: (transport: unknown) => Promise<void>): Promise<string> {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true });
  let raw = "";
  const sendMail = transporter.sendMail.bind(transporter);
  await send({
    sendMail: async (mail: Parameters<typeof sendMail>[0]) => {
      const info = await sendMail(mail);
      raw = String((info as { message: Buffer }).message);
      return info;
    },
  });
  return raw;
}

describe("mailSender", () => {
  it("sends to the visitor's address only, from `from`, the link in the text and the HTML (as text and as href)", async () => {
    const { transport, sent } = recordingTransport();
    const send = mailSender({ transport, from: "References <references@app.example>" });
    await send(message());
    expect(sent).toHaveLength(1);
    const mail = sent[0]!;
    expect(mail.to).toEqual([{ address: "ginger@example.org", name: "" }]);
    expect(mail.from).toEqual({ address: "references@app.example", name: "References" });
    expect(mail.subject).toBe("Your link");
    expect(mail.text).toContain(`\n${URL_}\n`);
    expect(mail.text).toContain("Hello Ginger,");
    expect(mail.text).toContain("2026-12-05 14:30 UTC");
    const escaped = URL_.replace(/&/g, "&amp;");
    expect(mail.html).toContain(`href="${escaped}"`);
    // The address printed beside the button, outside any tag: what a mangled button leaves.
    expect(mail.html).toContain(`<span style="word-break:break-all">${escaped}</span>`);
  });

  it("words a fresh link as one, and takes the subject option, a function of the message", async () => {
    const { transport, sent } = recordingTransport();
    await mailSender({ transport, from: "a@app.example" })(message({}, "freshLink"));
    expect(sent[0]!.subject).toBe("Your new link");
    expect(sent[0]!.text).toContain("no longer works");
    const custom = recordingTransport();
    await mailSender({
      transport: custom.transport,
      from: "a@app.example",
      subject: (m) => `A link for ${m.visitor.fullName}`,
    })(message());
    expect(custom.sent[0]!.subject).toBe("A link for Ginger Rogers");
  });

  it("escapes hostile names in the HTML and keeps them out of the headers", async () => {
    const { transport, sent } = recordingTransport();
    const send = mailSender({
      transport,
      from: "a@app.example",
      subject: (m) => `Hello ${m.visitor.firstName}`,
    });
    await send(message({ firstName: HOSTILE }));
    const mail = sent[0]!;
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.to).toEqual([{ address: "ginger@example.org", name: "" }]);

    const raw = await rawMessage((t) =>
      mailSender({
        transport: t as never,
        from: "a@app.example",
        subject: (m) => `Hello ${m.visitor.firstName}`,
      })(message({ firstName: HOSTILE })),
    );
    const headers = raw.slice(0, raw.indexOf("\r\n\r\n"));
    expect(headers).not.toMatch(/^Bcc:/im);
    expect(headers).toMatch(/^To: ginger@example\.org$/m);
  });

  it("lets a reason's template replace the subject, text or HTML, and keeps the rest", async () => {
    const { transport, sent } = recordingTransport();
    await mailSender({
      transport,
      from: "a@app.example",
      subject: "ignored for self-service",
      templates: {
        selfService: { subject: () => "Finish your reference", text: (m) => `Go: ${m.url}` },
      },
    })(message());
    expect(sent[0]!.subject).toBe("Finish your reference");
    expect(sent[0]!.text).toBe(`Go: ${URL_}`);
    expect(sent[0]!.html).toContain("Open your link");
  });

  it("refuses to send to anything but one plain address", async () => {
    const { transport, sent } = recordingTransport();
    const send = mailSender({ transport, from: "a@app.example" });
    await expect(send(message({ email: "" }))).rejects.toThrow(/no email address/);
    await expect(send(message({ email: "a@x.example, b@evil.example" }))).rejects.toThrow(
      /no email address/,
    );
    await expect(send(message({ email: "a@x.example\r\nBcc: b@evil.example" }))).rejects.toThrow();
    expect(sent).toHaveLength(0);
  });

  it("builds a nodemailer transport from options, loading nodemailer on the first email", async () => {
    const send = mailSender({ transport: { jsonTransport: true }, from: "a@app.example" });
    await expect(send(message())).resolves.toBeUndefined();
  });

  it("refuses bad options at setup with the option named", () => {
    const bad = (options: unknown) => {
      try {
        mailSender(options as never);
      } catch (error) {
        expect(error).toBeInstanceOf(VisitorPassConfigError);
        return (error as VisitorPassConfigError).option;
      }
      throw new Error("expected a refusal");
    };
    expect(bad({ from: "a@app.example" })).toBe("transport");
    expect(bad({ transport: { jsonTransport: true } })).toBe("from");
    expect(
      bad({ transport: { jsonTransport: true }, from: "a@app.example\r\nBcc: x@y.example" }),
    ).toBe("from");
    expect(bad({ transport: { jsonTransport: true }, from: "a@app.example", subject: 3 })).toBe(
      "subject",
    );
    expect(
      bad({
        transport: { jsonTransport: true },
        from: "a@app.example",
        templates: { welcome: {} },
      }),
    ).toBe("templates");
    expect(
      bad({
        transport: { jsonTransport: true },
        from: "a@app.example",
        templates: { selfService: { text: "not a function" } },
      }),
    ).toBe("templates.selfService.text");
  });
});

describe("subjectLine", () => {
  it("makes one bounded line of anything", () => {
    expect(subjectLine("Hello\r\nBcc: x@y.example")).toBe("Hello Bcc: x@y.example");
    expect(subjectLine("  a\u0000b\u2028c  ")).toBe("a b c");
    expect(subjectLine("x".repeat(400))).toHaveLength(250);
  });
});

describe("default templates", () => {
  it("print the link beside the button in both reasons, and the expiry only when there is one", () => {
    for (const reason of ["selfService", "freshLink"] as const) {
      const m = message({ expiresAt: null }, reason);
      const html = defaultMailTemplates[reason].html(m);
      const text = defaultMailTemplates[reason].text(m);
      expect(html.match(/https:\/\/app\.example\/reference/g)).toHaveLength(2);
      expect(text).toContain(URL_);
      expect(text).not.toContain("works until");
    }
  });

  it("greet without a name when the visitor gave none", () => {
    expect(defaultMailTemplates.selfService.text(message({ firstName: "  " }))).toMatch(
      /^Hello,\n/,
    );
  });
});
