import { describe, expect, it, vi } from "vitest";
import { act, renderHook } from "@testing-library/react";
import { useForm } from "./useForm";
import { ApiError } from "./problems";
import type { Errors } from "./validation";

interface Draft {
  name: string;
  code: string;
}
const validate = (d: Draft): Errors<Draft> => ({
  ...(d.name.trim() ? {} : { name: "Name is required." }),
  ...(/^[a-z]{3}$/.test(d.code) ? {} : { code: "Three lower-case letters." }),
});
const initial: Draft = { name: "", code: "abc" };
const valid: Draft = { name: "Ada", code: "xyz" };

/** A promise the test settles by hand, to look at the form while the request is in flight. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const problem422 = () =>
  new ApiError({
    status: 422,
    code: "validation_failed",
    errors: [
      { field: "/name", code: "duplicate", message: "This name is taken." },
      { field: "code", code: "bad", message: "The server refuses this code." },
    ],
  });

describe("useForm", () => {
  it("hides client errors until a field is touched, then shows them as the user types", () => {
    const { result } = renderHook(() => useForm(initial, validate));
    expect(result.current.errors.name).toBe("Name is required.");
    expect(result.current.show("name")).toBeUndefined();
    act(() => result.current.set("code", "ab"));
    expect(result.current.show("code")).toBe("Three lower-case letters.");
    expect(result.current.show("name")).toBeUndefined();
    act(() => result.current.set("code", "abd"));
    expect(result.current.show("code")).toBeUndefined();
  });

  it("with touchOnChange off, shows client errors only after a submit", async () => {
    const { result } = renderHook(() => useForm(initial, validate, { touchOnChange: false }));
    act(() => result.current.set("code", "ab"));
    expect(result.current.show("code")).toBeUndefined();
    await act(async () => {
      await result.current.submit(async () => "sent");
    });
    expect(result.current.show("code")).toBe("Three lower-case letters.");
    expect(result.current.show("name")).toBe("Name is required.");
  });

  it("does not run the action while the client finds errors, and touches every field", async () => {
    const action = vi.fn(async () => "sent");
    const { result } = renderHook(() => useForm(initial, validate));
    let out: string | undefined = "not run";
    await act(async () => {
      out = await result.current.submit(action);
    });
    expect(action).not.toHaveBeenCalled();
    expect(out).toBeUndefined();
    expect(result.current.busy).toBe(false);
    expect(result.current.touched).toEqual({ name: true, code: true });
    expect(result.current.show("name")).toBe("Name is required.");
  });

  it("is busy while the action runs, passes the values and returns its result", async () => {
    const d = deferred<string>();
    const action = vi.fn((_: Draft) => d.promise);
    const { result } = renderHook(() => useForm(valid, validate));
    let pending!: Promise<string | undefined>;
    act(() => {
      pending = result.current.submit(action);
    });
    expect(result.current.busy).toBe(true);
    expect(action).toHaveBeenCalledWith(valid);
    await act(async () => {
      d.resolve("receipt");
      expect(await pending).toBe("receipt");
    });
    expect(result.current.busy).toBe(false);
    expect(result.current.error).toBeNull();
  });

  it("keeps a failure in error, shows the server's field errors, and drops one when its field changes", async () => {
    const { result } = renderHook(() => useForm(valid, validate));
    const failure = problem422();
    let out: unknown = "not undefined";
    await act(async () => {
      out = await result.current.submit(() => Promise.reject(failure));
    });
    expect(out).toBeUndefined();
    expect(result.current.busy).toBe(false);
    expect(result.current.error).toBe(failure);
    expect(result.current.show("name")).toBe("This name is taken.");
    expect(result.current.show("code")).toBe("The server refuses this code.");

    act(() => result.current.set("name", "Ada Lovelace"));
    expect(result.current.show("name")).toBeUndefined();
    expect(result.current.show("code")).toBe("The server refuses this code.");
  });

  it("shows the client error before the server's for a touched field", async () => {
    const { result } = renderHook(() => useForm(valid, validate));
    await act(async () => {
      await result.current.submit(() => Promise.reject(problem422()));
    });
    act(() => result.current.set("code", "12"));
    expect(result.current.show("code")).toBe("Three lower-case letters.");
  });

  it("clears the previous error when a new submit starts", async () => {
    const { result } = renderHook(() => useForm(valid, validate));
    await act(async () => {
      await result.current.submit(() => Promise.reject(new Error("offline")));
    });
    expect(result.current.error).toEqual(new Error("offline"));
    const d = deferred<void>();
    act(() => {
      void result.current.submit(() => d.promise);
    });
    expect(result.current.error).toBeNull();
    await act(async () => d.resolve());
  });

  it("reset returns to the initial values (or the given ones) with nothing touched and no errors", async () => {
    const { result } = renderHook(() => useForm(initial, validate));
    act(() => result.current.set("name", "Ada"));
    await act(async () => {
      await result.current.submit(() => Promise.reject(problem422()));
    });
    expect(result.current.error).not.toBeNull();

    act(() => result.current.reset());
    expect(result.current.values).toEqual(initial);
    expect(result.current.touched).toEqual({});
    expect(result.current.error).toBeNull();
    expect(result.current.show("name")).toBeUndefined();
    expect(result.current.show("code")).toBeUndefined();

    act(() => result.current.reset({ name: "", code: "def" }));
    expect(result.current.values).toEqual({ name: "", code: "def" });
  });
});
