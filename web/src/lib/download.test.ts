import { afterEach, describe, expect, it, vi } from "vitest";
import { REVOKE_DELAY_MS, saveBlob } from "./download";

describe("saveBlob", () => {
  const { createObjectURL, revokeObjectURL } = URL;
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    Object.assign(URL, { createObjectURL, revokeObjectURL });
  });

  it("clicks an attached anchor to the object URL with the file name, then revokes the URL", () => {
    vi.useFakeTimers();
    // jsdom has no object URLs: stand them in.
    const create = vi.fn((_: Blob | MediaSource) => "blob:test/1");
    const revoke = vi.fn((_: string) => undefined);
    Object.assign(URL, { createObjectURL: create, revokeObjectURL: revoke });
    const clicks: Array<{ href: string; download: string; attached: boolean }> = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push({ href: this.href, download: this.download, attached: this.isConnected });
    });

    const blob = new Blob(["{}"], { type: "application/json" });
    saveBlob(blob, "receipt-r1.json");

    expect(create).toHaveBeenCalledWith(blob);
    expect(clicks).toEqual([{ href: "blob:test/1", download: "receipt-r1.json", attached: true }]);
    expect(document.querySelector("a")).toBeNull();
    // Revoked only after the browser has had time to start the download.
    expect(revoke).not.toHaveBeenCalled();
    vi.advanceTimersByTime(REVOKE_DELAY_MS);
    expect(revoke).toHaveBeenCalledWith("blob:test/1");
  });
});
