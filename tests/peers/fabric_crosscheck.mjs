// Protocol cross-checks against Hyperledger Fabric's official Node libraries (@hyperledger/fabric-gateway and
// @hyperledger/fabric-protos), driven by tests/unit/ledger_fabric/node_crosscheck_test.cpp. Reads one JSON
// request on stdin, writes one JSON answer on stdout. Offline: no peer is contacted.
//
//   {"mode":"node-proposal", "mspId", "certPem", "keyPem", "channel", "chaincode", "function", "args":[...]}
//     -> a proposal built and signed by fabric-gateway: {proposedTransaction (base64 gateway.ProposedTransaction),
//        transactionId}
//   {"mode":"decode-signed-proposal", "signedProposal" (base64), "certPem"}
//     -> the C++-built SignedProposal taken apart by fabric-protos, its signature checked by Node's crypto:
//        {txId, computedTxId, channel, type, chaincode, args (base64), mspId, signatureValid, lowS}
import { createHash, createPrivateKey, createPublicKey, verify, X509Certificate } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const gw = require("@hyperledger/fabric-gateway");
const { common, msp, peer } = require("@hyperledger/fabric-protos");
// fabric-gateway's own copy of grpc-js: a client that is never dialled, only needed to build proposals.
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [require.resolve("@hyperledger/fabric-gateway")] }));

const N = BigInt("0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
const b64 = (u8) => Buffer.from(u8).toString("base64");

// s of a DER ECDSA signature (SEQUENCE { INTEGER r, INTEGER s }).
function derS(sig) {
  let i = 2;
  if (sig[1] & 0x80) i += sig[1] & 0x7f;
  i += 1;
  const rlen = sig[i];
  i += 1 + rlen + 1;
  const slen = sig[i];
  return BigInt("0x" + Buffer.from(sig.subarray(i + 1, i + 1 + slen)).toString("hex"));
}

async function nodeProposal(req) {
  const client = new grpc.Client("127.0.0.1:1", grpc.credentials.createInsecure());
  const gateway = gw.connect({
    client,
    identity: { mspId: req.mspId, credentials: Buffer.from(req.certPem) },
    signer: gw.signers.newPrivateKeySigner(createPrivateKey(req.keyPem)),
    hash: gw.hash.sha256,
  });
  try {
    const contract = gateway.getNetwork(req.channel).getContract(req.chaincode);
    const proposal = contract.newProposal(req.function, { arguments: req.args });
    // Offline signing, as fabric-gateway documents it: sign the digest, rebuild the signed proposal.
    const signature = await gw.signers.newPrivateKeySigner(createPrivateKey(req.keyPem))(proposal.getDigest());
    const signed = gateway.newSignedProposal(proposal.getBytes(), signature);
    return { proposedTransaction: b64(signed.getBytes()), transactionId: signed.getTransactionId() };
  } finally {
    gateway.close();
    client.close();
  }
}

function decodeSignedProposal(req) {
  const sp = peer.SignedProposal.deserializeBinary(Buffer.from(req.signedProposal, "base64"));
  const proposal = peer.Proposal.deserializeBinary(sp.getProposalBytes_asU8());
  const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
  const ch = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const sh = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
  const creator = msp.SerializedIdentity.deserializeBinary(sh.getCreator_asU8());
  const ext = peer.ChaincodeHeaderExtension.deserializeBinary(ch.getExtension_asU8());
  const payload = peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
  const cis = peer.ChaincodeInvocationSpec.deserializeBinary(payload.getInput_asU8());
  const input = cis.getChaincodeSpec().getInput();
  const key = createPublicKey(new X509Certificate(req.certPem).publicKey.export({ type: "spki", format: "pem" }));
  const sig = sp.getSignature_asU8();
  return {
    txId: ch.getTxId(),
    computedTxId: createHash("sha256").update(sh.getNonce_asU8()).update(sh.getCreator_asU8()).digest("hex"),
    channel: ch.getChannelId(),
    type: ch.getType(),
    chaincode: ext.getChaincodeId()?.getName() ?? "",
    args: input.getArgsList_asU8().map(b64),
    mspId: creator.getMspid(),
    creatorPemMatches: Buffer.from(creator.getIdBytes_asU8()).toString() === req.certPem,
    signatureValid: verify("sha256", sp.getProposalBytes_asU8(), { key, dsaEncoding: "der" }, sig),
    lowS: derS(sig) <= N / 2n,
  };
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);
const out = req.mode === "node-proposal" ? await nodeProposal(req) : decodeSignedProposal(req);
process.stdout.write(JSON.stringify(out) + "\n");
