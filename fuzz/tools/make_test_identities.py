# Wrote fuzz/test_identities.h once (fresh keys each run: re-running invalidates the signed seeds, so rerun seedgen after).
import datetime, json
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
def key(): return ec.generate_private_key(ec.SECP256R1())
def pem_key(k): return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
def pem_cert(c): return c.public_bytes(serialization.Encoding.PEM).decode()
nb=datetime.datetime(2026,1,1); na=datetime.datetime(2046,1,1)
def name(cn, ous=()):
    attrs=[x509.NameAttribute(NameOID.ORGANIZATION_NAME,"Org1MSP")]+[x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,o) for o in ous]+[x509.NameAttribute(NameOID.COMMON_NAME,cn)]
    return x509.Name(attrs)
cak=key()
ca=(x509.CertificateBuilder().subject_name(name("ca.Org1MSP")).issuer_name(name("ca.Org1MSP")).public_key(cak.public_key())
    .serial_number(1000).not_valid_before(nb).not_valid_after(na)
    .add_extension(x509.BasicConstraints(ca=True,path_length=None),critical=True)
    .add_extension(x509.KeyUsage(True,False,False,False,False,True,True,False,False),critical=True)
    .sign(cak,hashes.SHA256()))
out={"CA":(pem_key(cak),pem_cert(ca))}
for i,(tag,cn,ou,role) in enumerate([("PEER","peer0","peer",None),("ORDERER","orderer0","orderer",None),("ALICE","alice","client","doctor")]):
    k=key()
    b=(x509.CertificateBuilder().subject_name(name(cn,[ou])).issuer_name(ca.subject).public_key(k.public_key())
       .serial_number(1001+i).not_valid_before(nb).not_valid_after(na)
       .add_extension(x509.BasicConstraints(ca=False,path_length=None),critical=True))
    if role: b=b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1"),json.dumps({"attrs":{"role":role}}).encode()),critical=False)
    out[tag]=(pem_key(k),pem_cert(b.sign(cak,hashes.SHA256())))
jk=key()
lines=["// Fixed test identities for the fuzz targets and their seed generator (fuzz/seedgen.cpp): an organisation",
"// Org1MSP (CA, peer0, orderer0, alice the doctor) and the JWT signing key. Fixed, so the checked-in seeds",
"// (signed blocks, envelopes, tokens) verify in every run. Test material only, valid 2026-2046.",
"#pragma once","","namespace medledger::fuzz {",""]
def raw(n,s): lines.append(f'inline constexpr const char* {n} = R"PEM({s})PEM";')
for tag,(k,c) in out.items():
    raw(f"k{tag.title()}KeyPem",k); raw(f"k{tag.title()}CertPem",c)
raw("kJwtKeyPem",pem_key(jk))
lines+=["","}  // namespace medledger::fuzz",""]
open("test_identities.h","w").write("\n".join(lines))
