// In-app navigation kept in memory: screens and the opaque IDs they need (report IDs, pseudonymous
// patient IDs) never appear in the URL. The browser's Back button still works: each step pushes an
// entry whose state is only an index into this in-memory stack.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";

export interface Route {
  screen: string;
  reportId?: string;
  patientId?: string;
}

interface NavValue {
  route: Route;
  go(r: Route): void;
  back(): void;
}

const NavContext = createContext<NavValue | null>(null);

export function useNav(): NavValue {
  const v = useContext(NavContext);
  if (!v) throw new Error("useNav outside NavProvider");
  return v;
}

export function NavProvider({ initial, children }: { initial: Route; children: ReactNode }) {
  const stack = useRef<Route[]>([initial]);
  const [index, setIndex] = useState(0);

  useEffect(() => {
    history.replaceState({ medledger: 0 }, "", location.pathname);
    const onPop = (e: PopStateEvent) => {
      const i = typeof e.state?.medledger === "number" ? e.state.medledger : 0;
      if (i < stack.current.length) setIndex(i);
    };
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const go = useCallback(
    (r: Route) => {
      stack.current = [...stack.current.slice(0, index + 1), r];
      const i = stack.current.length - 1;
      history.pushState({ medledger: i }, "", location.pathname);
      setIndex(i);
      window.scrollTo?.(0, 0);
    },
    [index],
  );
  const back = useCallback(() => {
    if (index > 0) history.back();
  }, [index]);

  return <NavContext.Provider value={{ route: stack.current[index] ?? initial, go, back }}>{children}</NavContext.Provider>;
}
