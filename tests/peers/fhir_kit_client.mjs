// Drives the real server with fhir-kit-client (npm, an independent FHIR client) for
// tests/integration/server_fhirkit_test.cpp: create, read, vread, search with paging through next links, a
// Bulk Data $export kick-off, polling to the manifest, and the file downloads. Prints one JSON object of what it
// observed (the C++ test asserts the values); exits 1 with the error on any failure.
//   node fhir_kit_client.mjs <fhir base URL> <doctor token> <patient id>
import { Client } from 'fhir-kit-client';

const [baseUrl, token, patient] = process.argv.slice(2);
const client = new Client({ baseUrl, customHeaders: { Authorization: `Bearer ${token}` } });
const out = {};

async function main() {
  out.capabilityKind = (await client.capabilityStatement()).kind;

  const created = [];
  for (const title of ['fhir-kit one', 'fhir-kit two', 'fhir-kit three']) {
    const dr = await client.create({
      resourceType: 'DiagnosticReport',
      body: {
        resourceType: 'DiagnosticReport',
        status: 'final',
        subject: { reference: `Patient/${patient}` },
        code: { text: title },
        conclusion: `conclusion of ${title}`,
        presentedForm: [{ contentType: 'text/plain', data: Buffer.from(`text of ${title}`).toString('base64') }],
      },
    });
    created.push(dr);
  }
  out.created = created.map((r) => ({ id: r.id, resourceType: r.resourceType, versionId: r.meta?.versionId }));

  const read = await client.read({ resourceType: 'DiagnosticReport', id: created[0].id });
  out.read = { id: read.id, conclusion: read.conclusion, text: Buffer.from(read.presentedForm[0].data, 'base64').toString() };
  const vread = await client.vread({ resourceType: 'DiagnosticReport', id: created[1].id, version: '1' });
  out.vread = { id: vread.id, versionId: vread.meta?.versionId, conclusion: vread.conclusion };
  const patientResource = await client.read({ resourceType: 'Patient', id: patient });
  out.patient = { resourceType: patientResource.resourceType, id: patientResource.id };

  // Search one entry per page and follow the next links to the end.
  let bundle = await client.search({ resourceType: 'DiagnosticReport', searchParams: { patient, _count: 1 } });
  const seen = [];
  let pages = 0;
  while (bundle) {
    pages += 1;
    for (const e of bundle.entry ?? []) if (e.resource?.resourceType === 'DiagnosticReport') seen.push(e.resource.id);
    if (pages > 100) throw new Error('more than 100 pages');
    bundle = await client.nextPage({ bundle });
  }
  out.pages = pages;
  out.searchIds = seen;

  // Bulk Data: kick-off through the client's operation call, then polling and downloads with its request().
  const kick = await client.operation({
    name: '$export',
    resourceType: 'Patient',
    id: patient,
    method: 'GET',
    input: { _type: 'Patient,DiagnosticReport' },
    options: { headers: { Prefer: 'respond-async', Accept: 'application/fhir+json' } },
  });
  const kickResponse = Client.httpFor(kick).response;
  out.kickoffStatus = kickResponse.status;
  const statusUrl = kickResponse.headers.get('content-location');
  out.statusUrl = statusUrl;
  let manifest;
  let polls = 0;
  for (;;) {
    polls += 1;
    const polled = await client.request(statusUrl);
    const res = Client.httpFor(polled).response;
    if (res.status === 200) {
      manifest = polled;
      break;
    }
    if (res.status !== 202) throw new Error(`status ${res.status}`);
    out.retryAfter = res.headers.get('retry-after');
    if (polls > 600) throw new Error('the export did not finish');
    await new Promise((r) => setTimeout(r, 50));
  }
  out.manifest = { requiresAccessToken: manifest.requiresAccessToken, request: manifest.request, error: manifest.error };
  out.files = {};
  for (const f of manifest.output) {
    // NDJSON is not one JSON document: fetched with the same bearer token, as the manifest requires.
    const res = await fetch(f.url, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+ndjson' } });
    const lines = (await res.text()).split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
    out.files[f.type] = { status: res.status, count: f.count, contentType: res.headers.get('content-type'),
      ids: lines.map((r) => r.id), types: [...new Set(lines.map((r) => r.resourceType))] };
  }
  const deleted = await fetch(statusUrl, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
  out.deleteStatus = deleted.status;
  try {
    await client.request(statusUrl);
    out.afterDelete = 200;
  } catch (e) {
    out.afterDelete = e.response?.status ?? -1;
  }
}

main().then(
  () => {
    console.log(JSON.stringify(out));
  },
  (e) => {
    console.error(e.stack || e, JSON.stringify(e.response?.data ?? ''));
    console.log(JSON.stringify(out));
    process.exit(1);
  },
);
