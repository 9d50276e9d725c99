// Entry of the standalone offline verifier (verify.html): built into one self-contained HTML file that makes
// no network request (its Content-Security-Policy forbids any), so it works from file:// or any static host.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { OfflineVerifier } from "./OfflineVerifier";
import "./offline.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <OfflineVerifier />
  </StrictMode>,
);
