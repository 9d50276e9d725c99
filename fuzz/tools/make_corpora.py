# Writes the hand-made seed corpora under fuzz/corpus/ (the rest comes from build/test/tests/unit/fuzz/seedgen). Run from the repo root.
import os, base64, json, subprocess
root='fuzz'
def w(t,name,data):
    d=f'{root}/corpus/{t}'; os.makedirs(d,exist_ok=True)
    if isinstance(data,str): data=data.encode()
    open(f'{d}/{name}','wb').write(data)
pid='a'*64
# ---- http_request_fuzzer: raw requests as browsers and the tests send them
reqs={
 'get_report': f'GET /api/v1/reports/{"b"*32}?purpose=treatment HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer x.y.z\r\nAccept: application/json\r\n\r\n',
 'get_patients_query': 'GET /api/v1/patients?query=Ann%20Lee&pageSize=20&bookmark=abc%2Fdef HTTP/1.1\r\nHost: h\r\n\r\n',
 'post_login': 'POST /api/v1/auth/login HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n{"username":"alice","password":"pw123"}',
 'chunked': 'POST /api/v1/reports HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5\r\n{"a":\r\n3\r\n1}\n\r\n0\r\n\r\n',
 'delete_consent': f'DELETE /api/v1/patients/{pid}/consents/c1 HTTP/1.1\r\nHost: h\r\nCookie: a=b\r\nCookie: c=d\r\n\r\n',
 'encoded_slash': 'GET /api/v1/reports/a%2Fb/history HTTP/1.1\r\nHost: h\r\n\r\n',
 'method_not_allowed': 'PUT /api/v1/reports HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n',
 'http10_keepalive': 'GET /fhir/r4/AuditEvent?date=ge2026-01-01&_count=10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
 'fhir_post': 'POST /fhir/r4/DiagnosticReport HTTP/1.1\r\nHost: h\r\nContent-Type: application/fhir+json\r\nIdempotency-Key: k1\r\nContent-Length: 2\r\n\r\n{}',
 'bad_percent': 'GET /api/v1/patients/%zz?query=%00 HTTP/1.1\r\nHost: h\r\n\r\n',
 'wellknown': 'GET /.well-known/jwks.json HTTP/1.1\r\nHost: h\r\nIf-None-Match: "x"\r\n\r\n',
 'absolute_target': 'GET http://h/api/v1/me HTTP/1.1\r\nHost: h\r\n\r\n',
}
for k,v in reqs.items(): w('http_request_fuzzer',k,v)
# ---- api_json_fuzzer: first byte = route + ROUTES * content type (fuzz/api_json_fuzzer.cpp's kRoutes and kTypes):
# 0 patients, 1 reports, 2 FHIR create, 3 amendments, 4 erasure, 5 consents, 6 emergency access, 7 clinicians,
# 8 login, 9 refresh; content types 0 application/json, 1 application/fhir+json, 2 with charset, 3 text/plain.
ROUTES=10
report={"patientId":pid,"title":"Chest X-ray","diagnosis":"No acute findings","content":"Lungs clear.",
        "attachments":[{"filename":"scan.pdf","contentType":"application/pdf","data":base64.b64encode(b"%PDF-1.4 test").decode()}]}
fhir={"resourceType":"DiagnosticReport","status":"final","subject":{"reference":"Patient/"+pid},
      "code":{"text":"Chest X-ray"},"conclusion":"No acute findings",
      "presentedForm":[{"contentType":"text/plain","data":base64.b64encode(b"Lungs clear.").decode()}]}
bodies={
 'patient': (0, {"name":"Ann Lee","birthDate":"1950-06-01","username":"ann"}),
 'patient_types': (0, {"name":5,"birthDate":None,"username":["x"]}),
 'report': (1, report),
 'report_bad_attachments': (1, {"patientId":pid,"attachments":[1,{"filename":2},{"filename":"a","contentType":"b","data":"!!"}]}),
 'report_not_array': (1, {"patientId":pid,"attachments":{}}),
 'fhir': (2, fhir),
 'fhir_fhir_json': (2+ROUTES, fhir),
 'fhir_bad_base64': (2, dict(fhir, presentedForm=[{"data":"***"}])),
 'fhir_wrong_subject': (2, dict(fhir, subject={"reference":"Group/1"}, resourceType="Observation")),
 'fhir_types': (2, {"resourceType":"DiagnosticReport","subject":"Patient/x","code":[],"presentedForm":{"data":1}}),
}
# Text the validation rewrites or refuses: line endings, control and zero-width characters, an SSN the default
# policy redacts, active content, an over-long title, and attachments whose bytes are sniffed.
bodies.update({
 'report_text_rules': (1, dict(report, content="line one\r\nline two\rthree\tfour\u0001\u200b SSN 123-45-6789 end",
                                   diagnosis="Dx\u0000 with NUL")),
 'report_active_content': (1, dict(report, diagnosis="<script>alert(1)</script>", title="<b>bold</b>")),
 'report_long_title': (1, dict(report, title="T"*300)),
 'report_sniffed': (1, dict(report, attachments=[
     {"filename":"x.png","contentType":"image/png","data":base64.b64encode(b"\x89PNG\r\n\x1a\n0000").decode()},
     {"filename":"page.html","contentType":"application/pdf","data":base64.b64encode(b"<html><script>x</script>").decode()},
     {"filename":"../../etc/passwd","contentType":"text/plain","data":""}])),
 'fhir_text_rules': (2, dict(fhir, conclusion="a\r\nb 123-45-6789", presentedForm=[{"data":base64.b64encode(b"x\ry\u0007").decode()}])),
})
bodies.update({
 'amend': (3, {"title":"Chest X-ray","diagnosis":"Resolved","content":"Follow-up clear.","reason":"Follow-up imaging"}),
 'amend_types': (3, {"title":1,"content":None,"reason":["x"]}),
 'erase': (4, {"reason":"patient_request","note":"GDPR Art. 17 request 2026-12"}),
 'erase_bad_reason': (4, {"reason":"because","note":7}),
 'consent': (5, {"doctor":"Org1MSP/doctor1","purpose":"Treatment","purposeCode":"TREAT","expiresAt":"2030-01-01T00:00:00Z"}),
 'consent_types': (5, {"doctor":3,"expiresAt":"tomorrow"}),
 'emergency': (6, {"reason":"Unconscious patient in the emergency department"}),
 'clinician': (7, {"username":"doctor1","displayName":"Dr. Ann Lee","active":True}),
 'clinician_types': (7, {"username":"doctor1","displayName":["x"],"active":"yes"}),
 'login': (8, {"username":"alice","password":"correct-horse-alice"}),
 'login_long': (8, {"username":"a"*200,"password":"p"}),
 'refresh': (9, {"refreshToken":"rt_"+"A"*43}),
})
for k,(b,j) in bodies.items(): w('api_json_fuzzer',k,bytes([b])+json.dumps(j).encode())
w('api_json_fuzzer','not_object',bytes([1])+b'[1,2,3]')
w('api_json_fuzzer','malformed',bytes([1])+b'{"patientId":')
w('api_json_fuzzer','text_plain',bytes([3*ROUTES])+b'{}')
w('api_json_fuzzer','nested',bytes([1])+b'{"a":'+b'['*50+b']'*50+b'}')
w('api_json_fuzzer','duplicate_keys',bytes([1])+b'{"title":"a","title":"b"}')
w('api_json_fuzzer','unicode',bytes([1])+'{"title":"\\u202e evil \\ud83d\\ude00","content":"\u00e9"}'.encode())
# ---- fhir_fuzzer: first byte mod 3 = mode (0 search query, 1 date, 2 JSON); for queries, bit 0x04 = Patient
# (else DiagnosticReport) and 0x08 = strict handling, so the byte is 0 (DiagnosticReport, lenient), 9 (strict),
# 6 (Patient, lenient) or 12 (Patient, strict).
fq={
 'search_patient': (0, f'patient={pid}&date=ge2026-01&date=lt2027&status=final,amended&_count=10&_include=DiagnosticReport:subject'),
 'search_subject_strict': (9, f'subject=Patient/{pid}&_lastUpdated=gt2026-12-07T10:00:00Z&_id={"b"*32}&unknown=1'),
 'search_id_paged': (0, f'_id={"b"*32}&_page_token=abc%2Fdef&_count=0&_format=json&_pretty=true'),
 'search_ap_prefix': (0, f'patient={pid}&date=ap2026'),
 'search_encoded': (0, f'patient={pid}&status=fin%61l&date=eb2026-12-07T10%3A00%3A00%2B05%3A30'),
 'patient_search': (6, 'name=Ann%20Lee&birthdate=1950&_count=500'),
 'patient_strict': (12, f'_id={pid}&birthdate=ge1950-06&identifier=x'),
}
for k,(b,q) in fq.items(): w('fhir_fuzzer',k,bytes([b])+q.encode())
for k,d in {'date_full':'2026-12-07T10:00:00.123+05:30','date_year':'2026','date_bad_day':'2026-02-30','date_zulu':'2026-12-07T23:59:59Z'}.items():
    w('fhir_fuzzer',k,bytes([1])+d.encode())
stored={"reportId":"b"*32,"version":2,"patientId":pid,"author":"Org1MSP/doctor1","createdAt":"2026-12-07T10:00:00Z",
        "updatedAt":"2026-12-07T11:00:00Z","cid":"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
        "title":"Chest X-ray","diagnosis":"No acute findings","content":"Lungs clear.","contentHash":"ab"*32,
        "attachments":[{"filename":"scan.pdf","contentType":"application/pdf","size":12}]}
w('fhir_fuzzer','json_create',bytes([2])+json.dumps(fhir).encode())
w('fhir_fuzzer','json_stored',bytes([2])+json.dumps(stored).encode())
w('fhir_fuzzer','json_problem',bytes([2])+json.dumps({"status":422,"code":"validation_failed","title":"Invalid","errors":[{"field":"title","code":"too_long","message":"at most 200 bytes"},{"field":"attachments[0].data","code":"invalid_base64","message":"x"}]}).encode())
w('fhir_fuzzer','json_types',bytes([2])+json.dumps({"reportId":1,"version":"2","attachments":{},"errors":"x","patientId":None}).encode())
# ---- multipart_fuzzer: first byte = length of the Content-Type value
def mp(ct, body):
    return bytes([len(ct)])+ct.encode()+body.encode()
w('multipart_fuzzer','report',mp('multipart/form-data; boundary=XyZ','--XyZ\r\nContent-Disposition: form-data; name="patientId"\r\n\r\n'+pid+'\r\n--XyZ\r\nContent-Disposition: form-data; name="attachments"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--XyZ--\r\n'))
w('multipart_fuzzer','quoted_boundary',mp('multipart/form-data; boundary="----WebKitFormBoundary7MA4YWxk"','------WebKitFormBoundary7MA4YWxk\r\nContent-Disposition: form-data; name="title"\r\n\r\nT\r\n------WebKitFormBoundary7MA4YWxk--\r\n'))
w('multipart_fuzzer','unterminated',mp('multipart/form-data; boundary=b','--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nno end'))
w('multipart_fuzzer','binary',mp('multipart/form-data; boundary=b','--b\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\n\r\n\x00\r\n--not-the-boundary\r\n\xff\r\n--b--\r\n'))
# ---- x509_fuzzer: first byte mod 3: 0 = PEM, 1 = DER, 2 = issue (NUL-separated CN, O, OUs, name=value attributes)
import re
hdr=open(f'{root}/test_identities.h').read()
pems=re.findall(r'R"PEM\((.*?)\)PEM"',hdr,re.S)
for i,p in enumerate(pems):
    w('x509_fuzzer',f'pem_{i}',b'\0'+p.encode())
    if 'CERTIFICATE' in p:
        der=base64.b64decode(''.join(l for l in p.splitlines() if l and not l.startswith('-----')))
        w('x509_fuzzer',f'der_{i}',b'\1'+der)
w('x509_fuzzer','chain',b'\0'+(pems[3]+pems[1]).encode())
w('x509_fuzzer','issue_doctor',b'\x02alice\0Org1MSP\0client\0hf.Role=doctor\0hf.EnrollmentID=alice')
w('x509_fuzzer','issue_ca',b'\x06ca.Org2MSP\0Org2MSP')
w('x509_fuzzer','issue_peer',b'\x02peer0.org1\0Org1MSP\0peer')
w('x509_fuzzer','issue_empty',b'\x02')
