// A small in-memory stand-in for `medledger serve`, used only to develop and screenshot the web app
// before (or without) the real server: same API shapes (docs/API.md), consent checks, access log,
// AES-GCM-encrypted content stored as files named by CID under DATA/blocks (so the e2e tamper step
// works the same way). Not a reference for the real server's behaviour.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";

const B32 = "abcdefghijklmnopqrstuvwxyz234567";
function base32(bytes) {
  let out = "", bits = 0, value = 0;
  for (const b of bytes) {
    value = (value << 8) | b; bits += 8;
    while (bits >= 5) { out += B32[(value >>> (bits - 5)) & 31]; bits -= 5; }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}
const sha256 = (b) => crypto.createHash("sha256").update(b).digest();
const rawCid = (b) => "b" + base32(Buffer.concat([Buffer.from([0x01, 0x55, 0x12, 0x20]), sha256(b)]));
const id = (n = 16) => crypto.randomBytes(n).toString("hex");

export function startMock({ port = 0, dataDir, webDir }) {
  fs.mkdirSync(path.join(dataDir, "blocks"), { recursive: true });
  const users = new Map([
    ["admin", { username: "admin", role: "admin", displayName: "Records Office", password: "admin-pass-1" }],
    ["dr.house", { username: "dr.house", role: "doctor", displayName: "Dr Gregory House", password: "doctor-pass-1" }],
    ["dr.cuddy", { username: "dr.cuddy", role: "doctor", displayName: "Dr Lisa Cuddy", password: "doctor-pass-2" }],
    ["jane", { username: "jane", role: "patient", displayName: "Jane Roe", password: "patient-pass-1", patientId: "p-7f3a9c21e4b8d605" }],
    ["audrey", { username: "audrey", role: "auditor", displayName: "Audrey Auditor", password: "auditor-pass-1" }],
  ]);
  fs.writeFileSync(path.join(dataDir, "demo-credentials.txt"),
    [...users.values()].map((u) => `${u.role} ${u.username} ${u.password}`).join("\n") + "\n");
  const patients = new Map([
    ["p-7f3a9c21e4b8d605", { patientId: "p-7f3a9c21e4b8d605", name: "Jane Roe", birthDate: "1971-03-14", username: "jane", mrn: "MRN-1001" }],
    ["p-1c2d3e4f5a6b7c8d", { patientId: "p-1c2d3e4f5a6b7c8d", name: "John Smith", birthDate: "1958-11-02", mrn: "MRN-1002" }],
  ]);
  const reports = new Map(); // reportId -> [versions]
  const consents = [];
  const events = [];
  const grants = [];
  const tokens = new Map();
  const refresh = new Map();
  let height = 1;
  let prevHash = id(32);
  const block = () => { height += 1; prevHash = id(32); return { blockNumber: height - 1, blockHash: prevHash }; };
  const now = () => new Date().toISOString();
  const event = (e) => { const b = block(); events.push({ eventId: id(8), timestamp: now(), txId: id(32), emergency: false, ...e }); return b; };

  const problem = (res, status, code, title, errors) => send(res, status, { type: `https://medledger.dev/problems/${code}`, title, status, code, detail: title, errors }, "application/problem+json");
  function send(res, status, body, type = "application/json") {
    if (body === undefined) { res.writeHead(status); return res.end(); }
    if (Buffer.isBuffer(body)) { res.writeHead(status, { "Content-Type": type }); return res.end(body); }
    res.writeHead(status, { "Content-Type": type }); res.end(JSON.stringify(body));
  }
  const issue = (u) => {
    const at = id(), rt = id();
    tokens.set(at, u.username); refresh.set(rt, u.username);
    const { password: _p, ...user } = u;
    return { accessToken: at, refreshToken: rt, tokenType: "Bearer", expiresIn: 900, user };
  };
  const pub = (u) => { const { password: _p, ...x } = u; return x; };
  const latest = (rid) => reports.get(rid)?.at(-1);
  const mayRead = (u, r) => {
    if (u.role === "patient") return u.patientId === r.patientId;
    if (u.role !== "doctor") return false;
    if (r.author === u.username) return "author";
    const t = Date.now();
    if (consents.some((c) => c.patientId === r.patientId && c.doctor === u.username && !c.revoked && Date.parse(c.expiresAt) > t)) return "consent";
    if (grants.some((g) => g.reportId === r.reportId && g.doctor === u.username && Date.parse(g.expiresAt) > t)) return "emergency";
    return false;
  };
  const summary = (r) => ({ reportId: r.reportId, version: r.version, patientId: r.patientId, title: r.title, author: r.author, createdAt: r.createdAt, cid: r.cid });
  const docOf = (r) => Buffer.from(JSON.stringify({ reportId: r.reportId, version: r.version, patientId: r.patientId, title: r.title, diagnosis: r.diagnosis, content: r.content, attachments: r.attachments.map(({ data: _d, ...a }) => a) }));
  function store(r) {
    const doc = docOf(r);
    const key = crypto.randomBytes(32), iv = crypto.randomBytes(12);
    const c = crypto.createCipheriv("aes-256-gcm", key, iv);
    c.setAAD(Buffer.from(r.reportId + "|" + r.patientId));
    const ct = Buffer.concat([iv, c.update(doc), c.final(), c.getAuthTag()]);
    r.cid = rawCid(ct); r.contentHash = sha256(doc).toString("hex"); r.key = key;
    fs.writeFileSync(path.join(dataDir, "blocks", r.cid), ct);
  }
  function open(r) {
    const ct = fs.readFileSync(path.join(dataDir, "blocks", r.cid));
    if (rawCid(ct) !== r.cid) return null;
    try {
      const d = crypto.createDecipheriv("aes-256-gcm", r.key, ct.subarray(0, 12));
      d.setAAD(Buffer.from(r.reportId + "|" + r.patientId)); d.setAuthTag(ct.subarray(ct.length - 16));
      return Buffer.concat([d.update(ct.subarray(12, ct.length - 16)), d.final()]);
    } catch { return null; }
  }
  const receipt = (r) => ({ reportId: r.reportId, version: r.version, cid: r.cid, contentHash: r.contentHash, txId: r.txId, blockNumber: r.blockNumber, blockHash: r.blockHash, timestamp: r.createdAt });

  function readBody(req) {
    return new Promise((resolve) => { const parts = []; req.on("data", (d) => parts.push(d)); req.on("end", () => resolve(Buffer.concat(parts))); });
  }
  function parseMultipart(buf, type) {
    const boundary = "--" + /boundary=(.+)$/.exec(type)[1];
    const fields = {}, files = [];
    for (const part of buf.toString("latin1").split(boundary).slice(1, -1)) {
      const [head, ...rest] = part.split("\r\n\r\n");
      const body = Buffer.from(rest.join("\r\n\r\n").replace(/\r\n$/, ""), "latin1");
      const name = /name="([^"]+)"/.exec(head)?.[1];
      const filename = /filename="([^"]*)"/.exec(head)?.[1];
      const ctype = /Content-Type: (.+)/i.exec(head)?.[1]?.trim();
      if (filename !== undefined) files.push({ filename, contentType: ctype, data: body });
      else fields[name] = body.toString("utf8");
    }
    return { fields, files };
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    const p = url.pathname;
    if (!p.startsWith("/api/v1/")) {
      if (p === "/healthz") return send(res, 200, { status: "ok" });
      const file = path.join(webDir, p === "/" ? "index.html" : p);
      if (file.startsWith(webDir) && fs.existsSync(file) && fs.statSync(file).isFile()) {
        const ext = path.extname(file);
        const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };
        return send(res, 200, fs.readFileSync(file), types[ext] ?? "application/octet-stream");
      }
      return send(res, 200, fs.readFileSync(path.join(webDir, "index.html")), "text/html");
    }
    const route = p.slice(7);
    const raw = await readBody(req);
    const ctype = req.headers["content-type"] ?? "";
    let body = {};
    if (ctype.startsWith("application/json") && raw.length) { try { body = JSON.parse(raw); } catch { return problem(res, 400, "invalid_json", "Malformed JSON"); } }
    const m = (re) => re.exec(route);
    if (req.method === "GET" && route === "/auth/config") return send(res, 200, {});
    if (req.method === "POST" && route === "/auth/login") {
      const u = users.get(body.username);
      if (!u || u.password !== body.password) return problem(res, 401, "invalid_credentials", "Invalid username or password");
      return send(res, 200, issue(u));
    }
    if (req.method === "POST" && route === "/auth/refresh") {
      const name = refresh.get(body.refreshToken);
      if (!name) return problem(res, 401, "invalid_refresh_token", "Refresh token not valid");
      refresh.delete(body.refreshToken);
      return send(res, 200, issue(users.get(name)));
    }
    if (req.method === "POST" && route === "/auth/logout") { refresh.delete(body.refreshToken); return send(res, 204); }
    const at = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const me = at && users.get(tokens.get(at));
    if (!me) return problem(res, 401, "unauthenticated", "Missing or invalid token");
    const deny = () => problem(res, 403, "permission_denied", "Not allowed");
    const role = (...r) => r.includes(me.role);
    let x;
    if (req.method === "GET" && route === "/me") return send(res, 200, pub(me));
    if (route === "/users") {
      if (!role("admin")) return deny();
      if (req.method === "GET") return send(res, 200, { items: [...users.values()].map(pub) });
      if (users.has(body.username)) return problem(res, 409, "user_exists", "User exists");
      const u = { username: body.username, role: body.role, displayName: body.displayName, password: body.password };
      users.set(u.username, u); block();
      return send(res, 201, pub(u));
    }
    if (req.method === "GET" && route === "/directory/clinicians") return send(res, 200, { items: [...users.values()].filter((u) => u.role === "doctor").map((u) => ({ mspId: "DemoMSP", username: u.username, displayName: u.displayName, role: "doctor", active: true })), bookmark: "" });
    if (req.method === "GET" && route === "/doctors") return send(res, 200, { items: [...users.values()].filter((u) => u.role === "doctor").map((u) => ({ username: u.username, displayName: u.displayName })) });
    if (route === "/patients") {
      if (req.method === "GET") {
        if (!role("doctor", "admin")) return deny();
        const q = (url.searchParams.get("query") ?? "").toLowerCase();
        return send(res, 200, { items: [...patients.values()].filter((pt) => !q || pt.name.toLowerCase().includes(q) || pt.mrn.toLowerCase() === q).map(({ mrn: _m, ...pt }) => pt), bookmark: "" });
      }
      if (!role("admin")) return deny();
      if ([...patients.values()].some((pt) => pt.mrn === body.mrn)) return problem(res, 409, "patient_exists", "Patient exists");
      const pt = { patientId: "p-" + id(8), name: body.name, birthDate: body.birthDate, mrn: body.mrn, username: body.username };
      patients.set(pt.patientId, pt); event({ kind: "patient_registered", patientId: pt.patientId, actor: me.username, actorRole: me.role });
      if (body.username && users.get(body.username)) users.get(body.username).patientId = pt.patientId;
      const { mrn: _m, ...out } = pt;
      return send(res, 201, out);
    }
    if ((x = m(/^\/patients\/([^/]+)$/)) && req.method === "GET") {
      const pt = patients.get(x[1]); if (!pt) return problem(res, 404, "patient_not_found", "No such patient");
      if (me.role === "patient" && me.patientId !== pt.patientId) return deny();
      const { mrn: _m, ...out } = pt; return send(res, 200, out);
    }
    if ((x = m(/^\/patients\/([^/]+)\/reports$/))) {
      const items = [...reports.values()].map((v) => v.at(-1)).filter((r) => r.patientId === x[1]).filter((r) => me.role === "auditor" || mayRead(me, r));
      return send(res, 200, { items: items.map(summary), bookmark: "" });
    }
    if (req.method === "GET" && route === "/shared/consents") {
      if (me.role !== "doctor") return deny();
      const t = Date.now();
      const mine = consents.filter((c) => c.doctor === me.username);
      return send(res, 200, { items: mine.map((c) => ({ ...c, doctorMsp: "DemoMSP", patientMsp: "DemoMSP", patientRef: c.patientId, purposeCode: "other", active: !c.revoked && Date.parse(c.expiresAt) > t })), bookmark: "" });
    }
    if ((x = m(/^\/shared\/patients\/([^/]+)\/reports$/))) {
      if (me.role !== "doctor") return deny();
      const t = Date.now();
      if (!consents.some((c) => c.patientId === x[1] && c.doctor === me.username && !c.revoked && Date.parse(c.expiresAt) > t)) return problem(res, 403, "no_consent", "No consent");
      const items = [...reports.values()].map((v) => v.at(-1)).filter((r) => r.patientId === x[1]);
      return send(res, 200, { items: items.map(summary), bookmark: "" });
    }
    if ((x = m(/^\/patients\/([^/]+)\/consents$/))) {
      if (!(me.role === "admin" || me.patientId === x[1])) return deny();
      if (req.method === "GET") return send(res, 200, { items: consents.filter((c) => c.patientId === x[1]) });
      if (typeof body.doctor === "string") body.doctor = body.doctor.replace(/^DemoMSP\//, "");
      if (!users.get(body.doctor) || users.get(body.doctor).role !== "doctor") return problem(res, 422, "validation_failed", "Invalid consent", [{ field: "doctor", code: "unknown_doctor", message: "No such doctor" }]);
      const c = { consentId: "c-" + id(6), patientId: x[1], doctor: body.doctor, purpose: body.purpose, expiresAt: body.expiresAt, grantedAt: now(), revoked: false };
      consents.push(c); event({ kind: "consent_granted", patientId: x[1], actor: me.username, actorRole: me.role, purpose: body.purpose });
      return send(res, 201, c);
    }
    if ((x = m(/^\/patients\/([^/]+)\/consents\/([^/]+)$/)) && req.method === "DELETE") {
      if (me.patientId !== x[1]) return deny();
      const c = consents.find((c) => c.consentId === x[2] && c.patientId === x[1]);
      if (!c) return problem(res, 404, "consent_not_found", "No such consent");
      c.revoked = true; c.revokedAt = now(); event({ kind: "consent_revoked", patientId: x[1], actor: me.username, actorRole: me.role });
      return send(res, 204);
    }
    if ((x = m(/^\/patients\/([^/]+)\/access-log$/))) {
      if (!(me.role === "auditor" || me.patientId === x[1])) return deny();
      return send(res, 200, { items: events.filter((e) => e.patientId === x[1] && (e.kind === "read" || e.kind === "emergency")) });
    }
    if (req.method === "POST" && route === "/reports") {
      if (!role("doctor")) return deny();
      let f = body, files = [];
      if (ctype.startsWith("multipart/form-data")) ({ fields: f, files } = parseMultipart(raw, ctype));
      else files = (body.attachments ?? []).map((a) => ({ filename: a.filename, contentType: a.contentType, data: Buffer.from(a.data, "base64") }));
      const errors = ["patientId", "title", "diagnosis", "content"].filter((k) => !f[k]?.trim()).map((k) => ({ field: k, code: "required", message: `${k} is required` }));
      if (errors.length) return problem(res, 422, "validation_failed", "Invalid report", errors);
      if (!patients.has(f.patientId)) return problem(res, 404, "patient_not_found", "No such patient");
      if (/<script/i.test(f.content)) return problem(res, 422, "active_content", "Active content");
      const r = { reportId: "r-" + id(8), version: 1, patientId: f.patientId, title: f.title, diagnosis: f.diagnosis, content: f.content, author: me.username, createdAt: now(), txId: id(32),
        attachments: files.map((a, i) => ({ index: i, filename: a.filename, contentType: a.contentType ?? "application/octet-stream", size: a.data.length, sha256: sha256(a.data).toString("hex"), data: a.data })) };
      store(r); Object.assign(r, block());
      reports.set(r.reportId, [r]);
      return send(res, 201, receipt(r));
    }
    if ((x = m(/^\/reports\/([^/]+)(\/[a-z-]+)?(\/\d+)?$/))) {
      const versions = reports.get(x[1]); if (!versions) return problem(res, 404, "report_not_found", "No such report");
      const r = versions.at(-1);
      const sub = x[2] ?? "";
      if (sub === "/emergency-access" && req.method === "POST") {
        if (!role("doctor")) return deny();
        const g = { grantId: "g-" + id(6), reportId: r.reportId, doctor: me.username, reason: body.reason, expiresAt: new Date(Date.now() + 3600e3).toISOString() };
        grants.push(g); event({ kind: "emergency", emergency: true, reportId: r.reportId, patientId: r.patientId, actor: me.username, actorRole: me.role, reason: body.reason });
        return send(res, 201, g);
      }
      const access = mayRead(me, r);
      const auditorOk = me.role === "auditor" && (sub === "/history" || sub === "/proof");
      if (!access && !auditorOk) return problem(res, 403, me.role === "doctor" ? "no_consent" : "permission_denied", "Not allowed");
      if (sub === "/amendments" && req.method === "POST") {
        if (r.author !== me.username) return problem(res, 403, "not_author", "Only the author may amend");
        const n = { ...r, version: r.version + 1, title: body.title ?? r.title, diagnosis: body.diagnosis ?? r.diagnosis, content: body.content, reason: body.reason, createdAt: now(), txId: id(32), previousVersion: r.version };
        store(n); Object.assign(n, block()); versions.push(n);
        return send(res, 201, receipt(n));
      }
      if (sub === "") {
        event({ kind: access === "emergency" ? "emergency" : "read", emergency: access === "emergency", reportId: r.reportId, patientId: r.patientId, actor: me.username, actorRole: me.role, purpose: access === "consent" ? "Treatment" : access === "author" ? "Author" : "Own record" });
        const doc = open(r);
        if (!doc) return problem(res, 500, "corruption", "Stored content fails verification");
        const { key: _k, ...rest } = r;
        return send(res, 200, { ...summary(r), ...JSON.parse(doc), emergency: access === "emergency", attachments: r.attachments.map(({ data: _d, ...a }) => a), contentHash: r.contentHash, txId: r.txId, blockNumber: r.blockNumber, blockHash: r.blockHash, previousVersion: rest.previousVersion });
      }
      if (sub === "/document") { const d = open(r); return d ? send(res, 200, d, "application/json") : problem(res, 500, "corruption", "Stored content fails verification"); }
      if (sub === "/ciphertext") return send(res, 200, fs.readFileSync(path.join(dataDir, "blocks", r.cid)), "application/octet-stream");
      if (sub === "/attachments" && x[3]) { const a = r.attachments[Number(x[3].slice(1))]; return a ? send(res, 200, a.data, a.contentType) : problem(res, 404, "not_found", "No such attachment"); }
      if (sub === "/history") return send(res, 200, { items: versions.map((v) => ({ version: v.version, reportId: v.reportId, txId: v.txId, blockNumber: v.blockNumber, timestamp: v.createdAt, author: v.author, cid: v.cid, contentHash: v.contentHash, reason: v.reason })) });
      // The mock keeps no signed report log: receipts need the real server.
      if (sub === "/receipt") return problem(res, 503, "log_unavailable", "The mock keeps no report log");
      if (sub === "/proof") return send(res, 200, { reportId: r.reportId, version: r.version, cid: r.cid, contentHash: r.contentHash, txId: r.txId, validationCode: "VALID", blockNumber: r.blockNumber, blockHash: r.blockHash, previousHash: id(32), dataHash: id(32) });
    }
    if (req.method === "GET" && route === "/audit/events") {
      if (!role("auditor")) return deny();
      const q = url.searchParams;
      const items = events.filter((e) => (!q.get("kind") || e.kind === q.get("kind")) && (!q.get("actor") || e.actor === q.get("actor")) && (!q.get("patientId") || e.patientId === q.get("patientId")) && (q.get("emergencyOnly") !== "true" || e.emergency));
      return send(res, 200, { items: items.slice().reverse(), bookmark: "" });
    }
    if (route === "/ledger/status") return role("auditor", "admin") ? send(res, 200, { height, currentHash: prevHash }) : deny();
    if (route === "/ledger/verify" && req.method === "POST") return role("auditor", "admin") ? send(res, 200, { ok: true, blocks: height, transactions: height - 1 }) : deny();
    return problem(res, 404, "not_found", "No such endpoint");
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve({ server, port: server.address().port })));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dataDir = process.argv[2] ?? fs.mkdtempSync("/tmp/medledger-mock-");
  const { port } = await startMock({ port: Number(process.env.PORT ?? 8080), dataDir, webDir: path.resolve(import.meta.dirname, "../dist") });
  console.log(`mock medledger on http://127.0.0.1:${port} (data ${dataDir})`);
}
