import { describe, expect, it } from "vitest";
import { ApiError, fieldErrors, humanMessage, isIntegrityProblem, toProblem } from "./problems";

describe("problem mapping", () => {
  it("maps known codes to plain sentences", () => {
    expect(humanMessage({ code: "invalid_credentials", status: 401 })).toBe("The username or password is not correct.");
    expect(humanMessage({ code: "no_consent", status: 403 })).toMatch(/not given you access/);
    expect(humanMessage({ code: "unsupported_type", status: 415 })).toMatch(/file type is not allowed/);
    expect(humanMessage({ code: "content_erased", status: 410 })).toMatch(/erased.*ledger record and proof remain/);
    expect(humanMessage({ code: "something_erased", status: 410 })).toMatch(/erased/);
  });
  it("falls back on the status, then on the title", () => {
    expect(humanMessage({ code: "something_new", status: 404 })).toBe("The requested item was not found.");
    expect(humanMessage({ code: "something_new", status: 502 })).toMatch(/went wrong on the server/);
    expect(humanMessage({ code: "odd", status: 418, title: "I'm a teapot" })).toBe("I'm a teapot");
  });
  it("parses problem+json bodies and tolerates others", () => {
    const p = toProblem(422, { type: "t", title: "Invalid", status: 422, code: "validation_failed", errors: [{ field: "title", code: "required", message: "Title is required" }] });
    expect(p.code).toBe("validation_failed");
    expect(fieldErrors(p)).toEqual({ title: "Title is required" });
    expect(toProblem(502, "<html>bad gateway</html>")).toMatchObject({ status: 502, code: "internal" });
    expect(toProblem(404, null).code).toBe("http_404");
  });
  it("normalizes field paths", () => {
    expect(fieldErrors({ status: 422, code: "x", errors: [{ field: "/attachments/0", code: "too_large", message: "" }] })).toEqual({
      attachments: "The file or text is too large.",
    });
  });
  it("ApiError carries the human message and the problem", () => {
    const e = new ApiError({ status: 429, code: "rate_limited" });
    expect(e.message).toMatch(/Too many requests/);
    expect(e.status).toBe(429);
    expect(e.code).toBe("rate_limited");
  });
  it("recognizes integrity failures", () => {
    expect(isIntegrityProblem({ status: 500, code: "corruption" })).toBe(true);
    expect(isIntegrityProblem({ status: 403, code: "forbidden" })).toBe(false);
  });
  it("explains the receipt codes: not ready yet (retry) and log unavailable", () => {
    expect(humanMessage({ status: 409, code: "receipt_not_ready" })).toMatch(/not ready yet.*Try again/);
    expect(humanMessage({ status: 503, code: "log_unavailable" })).toMatch(/public log is temporarily unavailable/);
  });
});
