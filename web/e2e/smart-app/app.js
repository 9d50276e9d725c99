// After the redirect: fhirclient redeems the code (PKCE), then reads and searches as the patient app.
const out = document.getElementById("result");
FHIR.oauth2
  .ready()
  .then(async (client) => {
    const result = { patient: client.patient.id, scope: client.state.tokenResponse.scope };
    // openid fhirUser: fhirclient decodes the id_token and reads the user's own FHIR resource through fhirUser.
    result.idToken = client.getIdToken();
    result.idTokenRaw = client.state.tokenResponse.id_token;
    result.fhirUser = client.getFhirUser();
    result.userFhirUser = client.user.fhirUser;
    result.userType = client.getUserType();
    const user = await client.user.read();
    result.userResource = user.resourceType + "/" + user.id;
    const me = await client.patient.read();
    result.patientResource = me.resourceType + "/" + me.id;
    const bundle = await client.request("DiagnosticReport?patient=" + client.patient.id);
    result.searchType = bundle.type;
    result.reports = (bundle.entry || []).length;
    try {
      await client.request("DiagnosticReport?patient=someone-else");
      result.otherPatient = "allowed";
    } catch (e) {
      result.otherPatient = e.status || e.message;
    }
    out.textContent = JSON.stringify(result);
    out.dataset.done = "1";
  })
  .catch((e) => {
    out.textContent = JSON.stringify({ error: e.message });
    out.dataset.done = "1";
  });
