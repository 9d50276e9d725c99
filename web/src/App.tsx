import { Button } from "@heroui/react";
import { Loading } from "./components/ui";
import { NavProvider, useNav, type Route } from "./lib/nav";
import { DirectoryProvider } from "./lib/directory";
import { SessionProvider, useIdleLogout, useSession, IDLE_TIMEOUT_MS } from "./lib/session";
import type { ApiClient } from "./lib/api";
import type { Role } from "./lib/types";
import { lazy, Suspense } from "react";
import { SignIn } from "./screens/SignIn";
import { pendingAuthorization } from "./screens/Smart";

// Screens load on demand so the sign-in page stays small.
const NewReport = lazy(() => import("./screens/NewReport").then((m) => ({ default: m.NewReport })));
const DoctorPatients = lazy(() => import("./screens/Doctor").then((m) => ({ default: m.DoctorPatients })));
const MyReports = lazy(() => import("./screens/Doctor").then((m) => ({ default: m.MyReports })));
const SharedWithMe = lazy(() => import("./screens/Doctor").then((m) => ({ default: m.SharedWithMe })));
const ReportView = lazy(() => import("./screens/ReportView").then((m) => ({ default: m.ReportView })));
const MyRecords = lazy(() => import("./screens/Patient").then((m) => ({ default: m.MyRecords })));
const AccessLog = lazy(() => import("./screens/Patient").then((m) => ({ default: m.AccessLog })));
const ConsentScreen = lazy(() => import("./screens/Patient").then((m) => ({ default: m.ConsentScreen })));
const AuditEvents = lazy(() => import("./screens/Auditor").then((m) => ({ default: m.AuditEvents })));
const BreakGlassReview = lazy(() => import("./screens/Auditor").then((m) => ({ default: m.BreakGlassReview })));
const ChainStatus = lazy(() => import("./screens/Auditor").then((m) => ({ default: m.ChainStatus })));
const AdminPatients = lazy(() => import("./screens/Admin").then((m) => ({ default: m.AdminPatients })));
const AdminUsers = lazy(() => import("./screens/Admin").then((m) => ({ default: m.AdminUsers })));
const AdminApps = lazy(() => import("./screens/Smart").then((m) => ({ default: m.AdminApps })));
const SmartAuthorize = lazy(() => import("./screens/Smart").then((m) => ({ default: m.SmartAuthorize })));

const MENUS: Record<Role, Array<{ screen: string; label: string }>> = {
  doctor: [
    { screen: "new-report", label: "New report" },
    { screen: "patients", label: "Patients" },
    { screen: "my-reports", label: "My reports" },
    { screen: "shared", label: "Shared with me" },
  ],
  patient: [
    { screen: "records", label: "My records" },
    { screen: "access-log", label: "Who accessed my records" },
    { screen: "consent", label: "Sharing and consent" },
  ],
  auditor: [
    { screen: "audit", label: "Audit events" },
    { screen: "break-glass", label: "Break-glass review" },
    { screen: "ledger", label: "Ledger" },
  ],
  admin: [
    { screen: "admin-patients", label: "Patients" },
    { screen: "admin-users", label: "Users and roles" },
    { screen: "admin-apps", label: "Apps" },
    { screen: "ledger", label: "Ledger" },
  ],
};

const ROLE_LABEL: Record<Role, string> = { doctor: "Doctor", patient: "Patient", auditor: "Auditor", admin: "Administrator" };

function Screen({ route }: { route: Route }) {
  switch (route.screen) {
    case "new-report": return <NewReport />;
    case "patients": return <DoctorPatients />;
    case "my-reports": return <MyReports />;
    case "shared": return <SharedWithMe />;
    case "report": return <ReportView key={route.reportId} reportId={route.reportId!} />;
    case "records": return <MyRecords />;
    case "access-log": return <AccessLog />;
    case "consent": return <ConsentScreen />;
    case "audit": return <AuditEvents />;
    case "break-glass": return <BreakGlassReview />;
    case "ledger": return <ChainStatus />;
    case "admin-patients": return <AdminPatients />;
    case "admin-users": return <AdminUsers />;
    case "admin-apps": return <AdminApps />;
    default: return null;
  }
}

function Shell({ idleMs }: { idleMs: number }) {
  const { user, logout } = useSession();
  const { route, go } = useNav();
  const { warning, stayActive } = useIdleLogout(!!user, () => void logout("idle"), idleMs, Math.min(60_000, idleMs / 4));
  if (!user) return null;
  const menu = MENUS[user.role] ?? [];
  return (
    <div className="min-h-screen bg-slate-50 text-slate-900">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2">
        Skip to content
      </a>
      <header className="sticky top-0 z-20 border-b border-slate-200 bg-white print:hidden">
        <div className="mx-auto flex h-14 max-w-screen-2xl items-center justify-between gap-4 px-4">
          <div className="flex items-center gap-2">
            <div className="flex h-8 w-8 items-center justify-center rounded-md bg-teal-700 font-bold text-white" aria-hidden>M</div>
            <span className="font-semibold">medledger</span>
          </div>
          <div className="flex items-center gap-3 text-sm">
            <span className="hidden text-right sm:block">
              <span className="block font-medium" data-testid="whoami">{user.displayName}</span>
              <span className="block text-xs text-slate-600">{ROLE_LABEL[user.role]} · {user.username}</span>
            </span>
            <Button size="sm" variant="secondary" onPress={() => void logout("manual")}>Sign out</Button>
          </div>
        </div>
      </header>
      {warning && (
        <div role="alertdialog" aria-labelledby="idle-title" className="sticky top-14 z-20 border-b border-amber-300 bg-amber-50 print:hidden">
          <div className="mx-auto flex max-w-screen-2xl items-center justify-between gap-3 px-4 py-2 text-sm text-amber-950">
            <span id="idle-title">You will be signed out soon because of inactivity.</span>
            <Button size="sm" onPress={stayActive}>Stay signed in</Button>
          </div>
        </div>
      )}
      <div className="mx-auto flex max-w-screen-2xl flex-col gap-4 px-4 py-4 md:flex-row md:gap-6">
        <nav aria-label="Main" className="shrink-0 print:hidden md:w-52">
          <ul className="flex gap-1 overflow-x-auto md:flex-col">
            {menu.map((m) => {
              const current = route.screen === m.screen;
              return (
                <li key={m.screen}>
                  <button
                    type="button"
                    aria-current={current ? "page" : undefined}
                    onClick={() => go({ screen: m.screen })}
                    className={`w-full whitespace-nowrap rounded-lg px-3 py-2 text-left text-sm font-medium focus-visible:outline-2 focus-visible:outline-teal-700 ${current ? "bg-teal-700 text-white" : "text-slate-700 hover:bg-slate-200"}`}
                  >
                    {m.label}
                  </button>
                </li>
              );
            })}
          </ul>
        </nav>
        <main id="main" className="min-w-0 flex-1">
          <Suspense fallback={<Loading />}>
            <Screen route={route} />
          </Suspense>
        </main>
      </div>
    </div>
  );
}

// Read once at start: a SMART app sent the browser here (GET /oauth2/authorize) for the user's consent.
const smartRequest = typeof window !== "undefined" ? pendingAuthorization() : null;

function Gate({ idleMs }: { idleMs: number }) {
  const { user, ready } = useSession();
  if (!ready) return <Loading label="Starting…" />;
  if (!user) return <SignIn />;
  if (smartRequest) {
    return (
      <Suspense fallback={<Loading />}>
        <SmartAuthorize requestId={smartRequest} />
      </Suspense>
    );
  }
  const first = MENUS[user.role]?.[0]?.screen ?? "";
  return (
    <NavProvider key={user.username} initial={{ screen: first }}>
      <DirectoryProvider>
        <Shell idleMs={idleMs} />
      </DirectoryProvider>
    </NavProvider>
  );
}

export default function App({ client, idleMs = IDLE_TIMEOUT_MS }: { client?: ApiClient; idleMs?: number }) {
  return (
    <SessionProvider client={client}>
      <Gate idleMs={idleMs} />
    </SessionProvider>
  );
}
