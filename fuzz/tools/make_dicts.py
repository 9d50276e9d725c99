# Writes fuzz/dict/*.dict. Run from the repo root.
import os
def q(s):
    out=''
    for ch in s.encode() if isinstance(s,str) else s:
        if 32<=ch<127 and ch not in (34,92): out+=chr(ch)
        else: out+='\\x%02X'%ch
    return '"'+out+'"'
def write(name, groups):
    lines=[f'# {name}: libFuzzer dictionary (scripts/fuzz.sh passes it with -dict).']
    for title, toks in groups:
        lines.append(f'# {title}')
        lines += [q(t) for t in toks]
    open(f'fuzz/dict/{name}.dict','w').write('\n'.join(lines)+'\n')
json_tokens=['{','}','[',']',':',',','"','true','false','null','-0','1e308','-1','0.5','\\u0000','\\ud83d\\ude00','\\u202e','""','{}','[]']
b64url=['eyJ','eyJhbGciOiJFUzI1NiIs','eyJhbGciOiJub25lIn0','eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9','.','..','-','_','=','AA','QQ']
jwt_fields=['"alg"','"ES256"','"RS256"','"PS256"','"HS256"','"none"','"kid"','"k1"','"typ"','"JWT"','"crit"','"jwk"','"jku"','"x5u"','"x5c"','"b64"',
            '"iss"','"https://issuer"','"sub"','"aud"','"client"','"exp"','"nbf"','"iat"','"jti"','"role"','"name"','"doctor"','"admin"','1800000000','1799999000',
            '"keys"','"kty"','"EC"','"RSA"','"crv"','"P-256"','"x"','"y"','"n"','"e"','"AQAB"','"use"','"sig"','"enc"']
write('jwt_fuzzer',[('mode bytes',['\x00','\x01','\x02']),('base64url JWT pieces',b64url),('JOSE header and claims',jwt_fields),('JSON',json_tokens)])
headers=['Host','Content-Type','Content-Length','Transfer-Encoding','chunked','Connection','keep-alive','close','Authorization','Bearer ','Cookie','Idempotency-Key',
         'Accept','If-None-Match','Expect','100-continue','Upgrade','X-Request-Id','X-Forwarded-For','Origin','Range','bytes=0-']
write('http_request_fuzzer',[('request line',['GET ','POST ','PUT ','DELETE ','PATCH ','OPTIONS ','HEAD ',' HTTP/1.1\r\n',' HTTP/1.0\r\n','\r\n','\r\n\r\n',': ','0\r\n\r\n']),
 ('header names',headers),
 ('paths',['/api/v1/','/fhir/r4/','reports/','patients/','consents/','directory/clinicians','shared/consents','shared/patients/','?org=','/history','/proof','/document','/ciphertext','/attachments/','/amendments','/emergency-access','/access-log',
           'audit/events','ledger/status','ledger/verify','auth/login','auth/refresh','/.well-known/','DiagnosticReport','AuditEvent','{id}']),
 ('query',['?','&','=','pageSize=','bookmark=','query=','purpose=','%','%2F','%00','%25','%zz','+'])])
write('api_json_fuzzer',[('route and content type bytes',[chr(i) for i in range(10)]+['\x0c','\x1e']),('JSON',json_tokens),
 ('fields',['"patientId"','"title"','"diagnosis"','"content"','"attachments"','"filename"','"contentType"','"data"','"name"','"birthDate"','"username"',
            '"reason"','"note"','"purpose"','"purposeCode"','"expiresAt"','"doctor"','"displayName"','"active"','"password"','"refreshToken"',
            '"patient_request"','"TREAT"','"2030-01-01T00:00:00Z"','"123-45-6789"','"<script>"','\r\n',
            '"resourceType"','"DiagnosticReport"','"subject"','"reference"','"Patient/"','"code"','"text"','"conclusion"','"presentedForm"','"status"','"final"',
            '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"','"1950-06-01"','"application/pdf"','"SGVsbG8="'])])
write('multipart_fuzzer',[('content type',['multipart/form-data','; boundary=','"',';','charset=utf-8']),
 ('structure',['--','\r\n','\r\n\r\n','--\r\n','Content-Disposition: form-data','; name="','"; filename="','Content-Type: ','application/pdf','attachments','patientId','title','content'])])
cid=['Qm','bafy','bafk','z','f','b','B','m','u','\x01\x55\x12\x20','\x01\x70\x12\x20','\x12\x20','\x01','\x55','\x70','\x12','\x20']
write('cid_fuzzer',[('multibase prefixes and multicodec/multihash bytes',cid)])
write('dagpb_fuzzer',[('dag-pb field tags (Links=2 Hash=1 Name=2 Tsize=3, Data=1)',['\x12','\x0a','\x18','\x12\x22\x0a\x22\x12\x20']),
 ('UnixFS tags (Type=1 Data=2 filesize=3 blocksizes=4 hashType=5 fanout=6 mode=7 mtime=8)',['\x08','\x08\x00','\x08\x01','\x08\x02','\x08\x05','\x12','\x18','\x20','\x22','\x28','\x30','\x38','\x42']),
 ('varints',['\x80','\xff\xff\xff\xff\x0f','\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01'])])
write('envelope_fuzzer',[('envelope',['MLEV','\x01','\x02','key-1','report','patient','\x00\x00'])])
write('keylog_fuzzer',[('key record',['\x00','\x01','\xff','key-1','kek-1','\x20','\x00\x00\x00\x20'])])
write('x509_fuzzer',[('PEM',['-----BEGIN CERTIFICATE-----\n','-----END CERTIFICATE-----\n','-----BEGIN PRIVATE KEY-----\n','-----BEGIN PUBLIC KEY-----\n','-----BEGIN EC PRIVATE KEY-----\n']),
 ('DER tags',['\x30\x82','\x30\x81','\x02\x01','\x06\x03\x55\x04\x03','\x06\x03\x55\x04\x0b','\x06\x03\x55\x04\x0a','\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02','\x06\x07\x2a\x86\x48\xce\x3d\x02\x01',
  '\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07','\x17\x0d','\x18\x0f','\xa0\x03\x02\x01\x02','\xa3','\x01\x01\xff','\x04','\x03\x42\x00\x04',
  '\x06\x07\x2a\x03\x04\x05\x06\x07\x08\x01','{"attrs":{"role":"doctor"}}','Org1MSP','peer','client','orderer'])])
pb_tags=['\x08','\x0a','\x10','\x12','\x18','\x1a','\x20','\x22','\x28','\x2a','\x30','\x32','\x3a','\x42','\x4a']
write('fabric_block_fuzzer',[('protobuf field tags (fields 1-9, varint and length-delimited)',pb_tags),
 ('values',['medledger','records','Org1MSP','\x08\x03','VALID','-----BEGIN CERTIFICATE-----','put','get','scan','\x80\x01'])])
write('chaincode_fuzzer',[('protobuf field tags',pb_tags),('ChaincodeMessage types (field 1, values REGISTERED=2 INIT=3 READY=4 TRANSACTION=5 ERROR=7 RESPONSE=13 KEEPALIVE=18 GET_HISTORY_FOR_KEY=19)',
  ['\x08\x01','\x08\x02','\x08\x03','\x08\x04','\x08\x05','\x08\x06','\x08\x07','\x08\x0d','\x08\x12','\x08\x13']),
 ('stub calls',['g','p','d','r','P','h','e','c',',','medledger','Org1MSP'])])
write('fhir_fuzzer',[('mode bytes',['\x00','\x01','\x02','\x06','\x09','\x0c']),('JSON',json_tokens),
 ('search',['patient=','subject=','Patient/','date=','_lastUpdated=','status=','_id=','_count=','_include=','DiagnosticReport:subject',
            '_page_token=','name=','birthdate=','identifier=','_format=','_pretty=','&',',','%2C','%3A','%2B',
            'eq','ne','lt','gt','le','ge','sa','eb','ap','final','amended','entered-in-error']),
 ('dates',['2026','-12','-07','T10:00:00','Z','+05:30','-00:00','.123','2026-02-29','2024-02-29','1900','9999']),
 ('resources',['"resourceType"','"DiagnosticReport"','"OperationOutcome"','"reportId"','"version"','"patientId"','"author"',
               '"createdAt"','"updatedAt"','"cid"','"attachments"','"errors"','"field"','"status"','"code"'])])
