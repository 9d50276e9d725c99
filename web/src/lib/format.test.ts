import { describe, expect, it } from "vitest";
import { errorText, formatBytes, formatDate, formatDay } from "./format";
import { ApiError } from "./problems";

describe("formatters", () => {
  it("formatDate gives a dash when absent, the input when unparsable, else the locale's date and time", () => {
    expect(formatDate(undefined)).toBe("—");
    expect(formatDate("")).toBe("—");
    expect(formatDate("not a date")).toBe("not a date");
    const iso = "2026-06-01T08:30:00Z";
    expect(formatDate(iso)).toBe(new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }));
  });

  it("formatDay reads a bare YYYY-MM-DD as that local day, not UTC midnight", () => {
    expect(formatDay(undefined)).toBe("—");
    expect(formatDay("31-31-2026")).toBe("31-31-2026");
    // West of UTC, UTC midnight is still the day before.
    const tz = process.env.TZ;
    process.env.TZ = "America/New_York";
    try {
      expect(formatDay("2026-01-02")).toBe(new Date(2026, 0, 2).toLocaleDateString(undefined, { dateStyle: "medium" }));
      expect(formatDay("2026-01-02")).not.toBe(new Date(2026, 0, 1).toLocaleDateString(undefined, { dateStyle: "medium" }));
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it("formatBytes switches unit at 1024", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.0 KB");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(10 * 1024 * 1024)).toBe("10.0 MB");
  });

  it("errorText takes the message of an error, and a generic sentence for anything else", () => {
    expect(errorText(new ApiError({ status: 403, code: "no_consent" }))).toBe("The patient has not given you access to this record.");
    expect(errorText(new Error("offline"))).toBe("offline");
    expect(errorText("boom")).toBe("Something went wrong on the server. Please try again.");
  });
});
