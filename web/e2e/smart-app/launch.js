// Standalone launch with the SMART on FHIR JavaScript client (fhirclient): discovery, PKCE, redirect.
const params = new URLSearchParams(location.search);
FHIR.oauth2
  .authorize({
    clientId: params.get("client"),
    scope: "launch/patient patient/DiagnosticReport.rs patient/Patient.rs openid fhirUser",
    redirectUri: "index.html",
    iss: location.origin + "/fhir/r4",
    pkceMode: "required",
  })
  .catch((e) => (document.getElementById("status").textContent = "launch failed: " + e.message));
