// A whole compliance year against a running app, over HTTP only, as its users would drive it (see scripts/demo.sh).
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";

const [url, keyFile, unitCount, stepSeconds] = [process.argv[2], process.argv[3], +process.argv[4], +process.argv[5]];
const key = readFileSync(keyFile, "utf8").trim();
const industries = ["cement", "heat", "services", "transport"];

// ---- tokens and HTTP ----
const b64url = (text) => Buffer.from(text).toString("base64url");
function token(role, scope) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: "beijing-ets-local", aud: "beijing-ets-api", sub: `local:${role}${scope ? ":" + scope : ""}`, roles: [role], iat: now, nbf: now, exp: now + 8 * 3600 };
  if (role === "unit") claims.unit_id = scope;
  if (role === "verifier") claims.verifier_id = scope;
  if (role === "district") claims.district = scope;
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" })) + "." + b64url(JSON.stringify(claims));
  return head + "." + createHmac("sha256", key).update(head).digest("base64url");
}
const regulator = token("regulator");

async function call(method, path, body, as = regulator, { ok = true, type = "application/json" } = {}) {
  const response = await fetch(url + "/api" + path, {
    method,
    headers: { authorization: `Bearer ${as}`, ...(body === undefined ? {} : { "content-type": type }) },
    body: body === undefined ? undefined : type === "application/json" ? JSON.stringify(body) : body,
  });
  const text = await response.text();
  if (ok && !response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  const json = text && response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text;
  return { status: response.status, body: json };
}
// Irreversible regulator actions are proposals (202) that a second regulator approves before they take effect.
const approver = token("regulator", "approver");
async function approved(response) {
  const id = response.body?.proposalId;
  if (!id) return response;
  const ended = await call("POST", `/approvals/${id}/approve`, undefined, approver);
  if (ended.body.status !== "executed") throw new Error(`Proposal ${id} ended ${JSON.stringify(ended.body)}`);
  return ended;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (text) => console.log(`${new Date().toISOString().slice(11, 19)}  ${text}`);

// ---- sample data ----
const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
function uscc() {
  let body = "9111";
  while (body.length < 17) body += alphabet[Math.floor(Math.random() * alphabet.length)];
  const sum = [...body].reduce((s, c, i) => s + alphabet.indexOf(c) * weights[i], 0);
  return body + alphabet[(31 - (sum % 31)) % 31];
}
function minimalPdf(text) {
  const objects = ["<</Type/Catalog/Pages 2 0 R>>", "<</Type/Pages/Kids[3 0 R]/Count 1>>",
    "<</Type/Page/MediaBox[0 0 595 842]/Parent 2 0 R/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
    `<</Length ${`BT /F1 14 Tf 50 780 Td (${text}) Tj ET`.length}>>stream\nBT /F1 14 Tf 50 780 Td (${text}) Tj ET\nendstream`,
    "<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"];
  let pdf = "%PDF-1.4\n";
  const offsets = objects.map((o, i) => { const at = pdf.length; pdf += `${i + 1} 0 obj\n${o}\nendobj\n`; return at; });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n` + offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("");
  pdf += `trailer\n<</Size ${objects.length + 1}/Root 1 0 R>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, "latin1");
}
async function upload(link, content) {
  const response = await fetch(link, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" }, body: content });
  if (!response.ok) throw new Error(`upload: ${response.status} ${await response.text()}`);
}
const gasPerTonne = 389.31 * 0.01532 * 0.99 * 44 / 12; // t CO2 per 10^4 Nm3 on the demo factors

// ---- the year ----
// A year whose statistics no earlier demo touched: an earlier demo of year Y imported Y-2..Y and published Y's list.
// The year after it is reported too (an enforcement deduction comes off its allocation), so it must have ended.
const taken = async (y) => (await Promise.all([y, y + 1].map((c) => call("GET", `/lists/${c}`, undefined, regulator, { ok: false })))).some((r) => r.status !== 404)
  || (await Promise.all([y, y + 1, y + 2].map((c) => call("GET", `/cycles/${c}`, undefined, regulator, { ok: false })))).some((r) => r.status !== 404);
let year = new Date().getUTCFullYear() - 2;
while (await taken(year)) {
  if (--year < 2015) throw new Error("Every demo year is used in this storage: stop run.sh, remove .data/azurite, start it again.");
}
log(`Demo year ${year}: ${unitCount} units, one schedule step every ${stepSeconds} s`);

const districtOf = (u) => ["朝阳区", "海淀区", "丰台区"][u.i % 3];
const units = Array.from({ length: unitCount }, (_, i) => {
  const isKey = i % 5 !== 4;
  return { i, uscc: uscc(), industry: industries[i % industries.length], isKey, emissions: isKey ? 6000 + ((i * 733) % 14000) : 2000 + ((i * 377) % 2500) };
});
for (const [y, register] of [[year - 2, true], [year - 1, false], [year, false]]) {
  const rows = units.map((u) => `${u.uscc},演示单位${String(u.i).padStart(2, "0")},${districtOf(u)},${u.industry},5000,${y < year ? u.emissions + 500 : u.emissions},0`);
  await call("POST", `/lists/${y}/statistics`, `uscc,name,district,industry,energyConsumptionTce,directEmissionsT,indirectEmissionsT\n${rows.join("\n")}\n`, regulator, { type: "text/csv" });
  if (register) log(`Registered ${unitCount} units through the ${y} statistics import`);
}
// Each party registers where its notices go; run.sh's smtp4dev shows every email at http://127.0.0.1:5080.
const mail = (name, email) => ({ contacts: [{ name, email }] });
await Promise.all(units.map((u) => call("PUT", "/parties/me/contacts", mail(`演示单位${String(u.i).padStart(2, "0")} 环保专员`, `unit${String(u.i).padStart(2, "0")}@demo.example.cn`), token("unit", u.uscc))));
await call("PUT", "/parties/me/contacts", mail("市生态环境局 碳排放管理处", "carbon@sthjj.demo.example.cn"));
for (const [n, d] of ["朝阳区", "海淀区", "丰台区"].entries()) await call("PUT", `/parties/${encodeURIComponent(`district:${d}`)}/contacts`, mail(`${d}生态环境局`, `district${n}@demo.example.cn`));
log(`Registered the email contacts of ${unitCount} units, 3 district bureaus and the bureau`);
const published = (await call("POST", `/lists/${year}/publish`)).body;
log(`Published the ${year} list: ${published.keyUnits} key units, ${published.reportingUnits} general reporting units`);
const entries = (await call("GET", `/lists/${year}`)).body.entries;
const listed = new Set(entries.map((e) => e.uscc));
const keyUnits = units.filter((u) => entries.some((e) => e.uscc === u.uscc && e.category === "key"));
await approved(await call("PUT", `/allocation/${year}/plan`, {
  cap: 1_000_000, reserveRatio: 0.05, preAllocationRatio: 0.7,
  methods: Object.fromEntries(industries.map((i) => [i, { method: "historical-total", baseYears: [year - 2, year - 1], controlFactor: 0.98 }])),
}));
await call("PUT", `/reference/${year}/emission-factors`, {
  fuels: { "natural-gas": { unit: "10^4 Nm3", ncvGJPerUnit: 389.31, carbonContentTCPerGJ: 0.01532, oxidationRate: 0.99 } },
  electricityTCO2PerMWh: 0.5703, heatTCO2PerGJ: 0.11,
});
const start = Date.now() + 5000;
const at = (steps) => new Date(start + steps * stepSeconds * 1000).toISOString();
const schedule = { listPublication: at(0), preAllocation: at(1), reportsDue: at(3), verificationDue: at(4), confirmationDue: at(5), verifiedAllocation: at(6), surrenderDue: at(8), close: at(9) };
await call("PUT", `/cycles/${year}/schedule`, schedule);
await call("POST", `/cycles/${year}/start`);
log(`Started the ${year} cycle; it closes at ${schedule.close}`);

async function phase(name, { advance = false } = {}) {
  for (;;) {
    const status = (await call("GET", `/cycles/${year}`)).body;
    if (status.phase === name) return status;
    if (advance && status.phase === "confirmation" && status.blocked) {
      log(`Cycle waits: ${status.blocked} The regulator advances.`);
      await call("POST", `/cycles/${year}/advance`);
    }
    await sleep(1000);
  }
}

await phase("reporting");
log("Pre-allocation paid; reporting is open");
const silent = new Set([keyUnits[0].uscc, keyUnits[1].uscc, keyUnits[2].uscc, (units.find((u) => listed.has(u.uscc) && !keyUnits.includes(u)) ?? keyUnits[4]).uscc]);
const reports = new Map();
for (const u of units.filter((u) => listed.has(u.uscc) && !silent.has(u.uscc))) {
  const report = {
    fuels: [{ fuel: "natural-gas", quantity: Math.round((u.emissions - 400) / gasPerTonne * 100) / 100, unit: "10^4 Nm3" }],
    processes: [], purchasedElectricityMWh: 900, purchasedHeatGJ: 0, nonFossilElectricityMWh: 200, nonFossilEvidence: "green certificates",
    activity: [{ product: "output-t", quantity: u.emissions * 2, unit: "t" }], declaration: { signedBy: "张伟", title: "法定代表人" },
  };
  reports.set(u.uscc, (await call("PUT", `/units/${u.uscc}/reports/${year}`, report, token("unit", u.uscc))).body);
}
log(`${reports.size} units reported; ${silent.size} did not (they get reminders)`);

// A key unit's data-quality control plan (Art. 22): returned with reasons, filed again, approved; one test report uploaded.
const planner = keyUnits[4];
const plan = (dataFlow) => ({
  sources: [{ name: "1# boiler", fuels: ["natural-gas"] }],
  measuredParameters: [{ parameter: "net-calorific-value", fuel: "natural-gas", method: "GB/T 11062 calorific value by composition", instrument: "laboratory", laboratory: "北京演示检测中心", frequency: "monthly" }],
  dataFlow, staff: [{ name: "王芳", responsibility: "accounting" }, { name: "李强", responsibility: "reporting" }],
});
await call("PUT", `/units/${planner.uscc}/quality-plans/${year}`, plan("gas meter -> monthly ledger -> report"), token("unit", planner.uscc));
await call("POST", `/units/${planner.uscc}/quality-plans/${year}/decision`, { version: 1, decision: "returned", reasons: ["Say who reconciles the gas meter with the supplier's invoices, and how often."] });
await call("PUT", `/units/${planner.uscc}/quality-plans/${year}`, plan("gas meter -> daily log, reconciled monthly with invoices by 王芳 -> monthly ledger -> report"), token("unit", planner.uscc));
const approvedPlan = (await call("POST", `/units/${planner.uscc}/quality-plans/${year}/decision`, { version: 2, decision: "approved" })).body;
const testLink = (await call("POST", `/units/${planner.uscc}/quality-plans/${year}/test-reports`, {
  fileName: "天然气热值检测报告.pdf", laboratory: "北京演示检测中心", parameter: "net-calorific-value", fuel: "natural-gas", periodFrom: `${year}-01-01`, periodTo: `${year}-03-31`,
}, token("unit", planner.uscc))).body;
await upload(testLink.uploadUrl, minimalPdf(`Test report ${planner.uscc} ${year} Q1`));
for (let tries = 0; tries < 30; tries++) {
  const filed = (await call("GET", `/units/${planner.uscc}/quality-plans/${year}/test-reports`)).body;
  if (filed.some((r) => r.attachment.status === "received")) break;
  await sleep(1000);
}
log(`Unit ${planner.uscc}'s data-quality control plan: version 1 returned with reasons, version ${approvedPlan.version} ${approvedPlan.status}; a laboratory test report uploaded`);

// District checks (Art. 9, 23): the planner's March data takes the default calorific value its plan says it measures;
// its district records the finding, asks for a correction, the unit files the measured value, the district signs off.
const bureau = token("district", districtOf(planner));
const march = (ncvGJPerUnit) => ({ fuels: [{ fuel: "natural-gas", quantity: 120, unit: "10^4 Nm3", ncvGJPerUnit }], purchasedElectricityMWh: 75, supportingMaterials: ["gas invoices", "meter export"] });
await call("PUT", `/units/${planner.uscc}/monthly/${year}-03`, march(undefined), token("unit", planner.uscc));
const monthCheck = (await call("GET", `/districts/${encodeURIComponent(districtOf(planner))}/checks?kind=monthly-data&unit=${planner.uscc}`, undefined, bureau)).body.checks[0];
log(`${districtOf(planner)} opened check ${monthCheck.checkId} (due ${monthCheck.dueOn}) with ${monthCheck.findings.length} finding(s) against the plan: ${monthCheck.findings.map((f) => f.text).join(" | ")}`);
await call("POST", `/checks/${monthCheck.checkId}/findings`, { text: "March gas use is computed on the default calorific value, not the laboratory's." }, bureau);
await call("POST", `/checks/${monthCheck.checkId}/correction-requests`, { text: "File March again with the measured calorific value from the Q1 test report." }, bureau);
await call("PUT", `/units/${planner.uscc}/monthly/${year}-03`, march(391.2), token("unit", planner.uscc));
const answered = (await call("GET", `/checks/${monthCheck.checkId}`, undefined, bureau)).body;
const signed = (await call("POST", `/checks/${monthCheck.checkId}/sign-off`, { outcome: "passed", note: "Corrected in revision 2 with the measured value." }, bureau)).body;
log(`The unit answered correction request 1 with revision ${answered.correctionRequests[0].answeredByRevision}; the district signed the month off: ${signed.outcome}`);
const listChecks = (await call("GET", `/lists/${year}/district-checks`)).body;
for (const d of listChecks.byDistrict) {
  await call("POST", `/checks/${d.checkId}/findings`, { none: true }, token("district", d.district));
  await call("POST", `/checks/${d.checkId}/sign-off`, { outcome: "passed", note: `${d.changes} change(s) confirmed and reported` }, token("district", d.district));
}
log(`List changes confirmed by ${(await call("GET", `/lists/${year}/district-checks`)).body.confirmed} of ${listChecks.districts} districts`);

const objector = keyUnits[3];
const objection = await call("POST", `/allocation/${year}/units/${objector.uscc}/objections`, { reason: "The 2-year base omits the new kiln line commissioned in Q4." }, token("unit", objector.uscc), { ok: false });
if (objection.status === 201) {
  await call("POST", `/objections/${objection.body.objection.id}/decision`, { outcome: "rejected", explanation: "The plan's method counts installed capacity from the following year (Art. 13)." });
  log(`Unit ${objector.uscc} objected to its allocation; the regulator decided (rejected, with reasons)`);
} else log(`The objection could not be filed: ${objection.body.detail}`);

const verifier = uscc();
await call("PUT", `/verifiers/${verifier}`, {
  name: "北京演示核查机构", registeredInPrc: true, independentLegalPerson: true, fixedOffice: true, qualityManagement: ["QM-01 impartiality"], ghgExperience: ["2023: 40 units"],
  staff: ["lead", "second", "third"].map((id) => ({ id, name: id, fullTime: true, experienceYears: Object.fromEntries(industries.map((i) => [i, 6])) })),
});
await call("PUT", "/parties/me/contacts", mail("北京演示核查机构 项目组", "verifier@demo.example.cn"), token("verifier", verifier));
const verified = keyUnits.filter((u) => reports.has(u.uscc)).slice(0, 8);
for (const [n, u] of verified.entries()) {
  const report = reports.get(u.uscc);
  // The unit engages the body; only the body, with its own token, obtains the upload links (Art. 24).
  const engagement = (await call("POST", `/units/${u.uscc}/reports/${year}/verification`, { verifier, leadVerifier: "lead" }, token("unit", u.uscc))).body;
  const links = (await call("POST", `/verifiers/${verifier}/engagements/${engagement.engagementId}/links`, undefined, token("verifier", verifier))).body;
  const total = n === 6 ? Math.round(report.totalEmissionsT * 1.1) : report.totalEmissionsT;
  const statement = (y) => JSON.stringify({ unit: u.uscc, year: y, reportVersion: report.version, directEmissionsT: total - report.indirectEmissionsT, indirectEmissionsT: report.indirectEmissionsT,
    totalEmissionsT: total, opinion: n === 6 ? "with-comments" : "satisfactory", misstatements: [], nonConformities: n === 6 ? ["fuel meter 3 uncalibrated"] : [] });
  await upload(links.reportUploadUrl, minimalPdf(`Verification report ${u.uscc} ${year}`));
  await upload(links.statementUploadUrl, statement(n === 7 ? year - 1 : year));
}
let verifications = [];
for (let tries = 0; tries < 60; tries++) {
  verifications = await Promise.all(verified.map(async (u) => (await call("GET", `/units/${u.uscc}/reports/${year}/verification`)).body));
  if (verifications.every((v) => v.status !== "awaiting-upload")) break;
  await sleep(1000);
}
for (const v of verifications) log(`Verification of ${v.unit}: ${v.status}${v.flagged ? " (flagged)" : ""}${v.reason ? ": " + v.reason : ""}`);

for (const u of keyUnits.filter((u) => reports.has(u.uscc))) {
  const v = verifications.find((x) => x.unit === u.uscc);
  const body = v?.status === "accepted"
    ? { confirmedEmissions: v.verifiedEmissionsT, basis: "verified" }
    : { confirmedEmissions: reports.get(u.uscc).totalEmissionsT, basis: "adjusted", reason: "Confirmed on the report after the regulator's document review (Art. 23)." };
  await approved(await call("POST", `/units/${u.uscc}/reports/${year}/confirmation`, body));
}
log(`Confirmed the emissions of ${keyUnits.filter((u) => reports.has(u.uscc)).length} key units`);
const firstVerified = verifications.find((v) => v.status === "accepted");
if (firstVerified) {
  const c = (await call("GET", `/units/${firstVerified.unit}/reports/${year}/confirmation`)).body;
  log(`Unit ${firstVerified.unit} was confirmed before its district signed off the verification's preliminary check: districtCheck ${c.districtCheck}`);
}

for (const u of keyUnits.filter((u) => u.i % 4 === 0)) {
  await approved(await call("POST", "/ledger/transactions", { transactionId: `demo-${year}-ccer-${u.uscc}`, type: "deposit", to: u.uscc, product: "CCER", vintage: year, quantity: 400, lot: `CCER-DEMO-${u.i}` }));
}
await phase("surrender", { advance: true });
log("Verified allocation settled; surrender is open");
let surrenders = 0;
for (const u of keyUnits.filter((u) => reports.has(u.uscc))) {
  const owed = (await call("GET", `/units/${u.uscc}/compliance/${year}`, undefined, token("unit", u.uscc))).body.confirmedEmissionsT;
  const account = (await call("GET", `/units/${u.uscc}/account`, undefined, token("unit", u.uscc))).body;
  const bea = account.holdings.filter((h) => h.product === "BEA" && h.vintage <= year).reduce((s, h) => s + h.quantity, 0);
  const offsets = u.i % 4 === 0 ? Math.min(400, Math.floor(owed * 5 / 100)) : 0;
  const share = [1, 1, 0.5, 0][u.i % 4];
  const allowances = Math.min(bea, Math.floor(owed * share) - offsets);
  const items = [];
  if (allowances > 0) items.push({ product: "BEA", vintage: year, quantity: allowances });
  if (offsets > 0) items.push({ product: "CCER", vintage: year, quantity: offsets, lot: `CCER-DEMO-${u.i}` });
  if (items.length === 0) continue;
  await call("POST", `/units/${u.uscc}/surrenders/${year}`, { transactionId: `demo-${year}`, items }, token("unit", u.uscc));
  surrenders++;
}
log(`${surrenders} units surrendered (some in full with offsets, some in part, some not at all)`);

const closed = await phase("closed");
log(`Cycle closed. History: ${closed.history.map((h) => h.to).filter((p, i, all) => all.indexOf(p) === i).join(" -> ")}`);
for (const p of closed.phases) log(`  ${p.name.padEnd(20)} ${String(p.done).padStart(3)} done ${String(p.failed).padStart(3)} failed of ${p.total}`);
const frozen = (await call("GET", `/cycles/${year}/non-compliant`)).body;
log(`Non-compliant list frozen for enforcement (Art. 29): ${frozen.length} units`);

// Enforcement (Art. 29): assessment opened a case per non-compliant unit; the regulator decides one with a deduction
// from the next year's allocation, which that year's verified allocation takes.
const cases = (await call("GET", "/cases?status=open")).body.filter((c) => c.source === "non-compliance" && c.year === year && reports.has(c.party.id));
log(`${cases.length} enforcement cases opened from the non-compliant list`);
const target = cases[0];
if (target) {
  const deductT = Math.min(target.shortfallT, 1000);
  const decided = (await call("POST", `/cases/${target.caseId}/decision`, {
    outcome: "penalty", legalBasis: "《北京市碳排放权交易管理办法》第二十九条", penalty: "As the applicable rules set; the amount is the regulator's, written here as decided.", deductT,
  })).body;
  await call("POST", `/cases/${target.caseId}/close`);
  log(`Case ${target.caseId}: ${target.party.id} short ${target.shortfallT} t; decided ${decided.decision.outcome}, ${deductT} t off its ${decided.decision.deductFromYear} allocation; closed`);
  const next = year + 1;
  const rows = units.map((u) => `${u.uscc},演示单位${String(u.i).padStart(2, "0")},${districtOf(u)},${u.industry},5000,${u.emissions},0`);
  await call("POST", `/lists/${next}/statistics`, `uscc,name,district,industry,energyConsumptionTce,directEmissionsT,indirectEmissionsT\n${rows.join("\n")}\n`, regulator, { type: "text/csv" });
  await call("POST", `/lists/${next}/publish`);
  await approved(await call("PUT", `/allocation/${next}/plan`, {
    cap: 1_000_000, reserveRatio: 0.05, preAllocationRatio: 0.7,
    methods: Object.fromEntries(industries.map((i) => [i, { method: "historical-total", baseYears: [next - 2, next - 1], controlFactor: 0.98 }])),
  }));
  await call("POST", `/allocation/${next}/pre-allocation`);
  await call("PUT", `/reference/${next}/emission-factors`, {
    fuels: { "natural-gas": { unit: "10^4 Nm3", ncvGJPerUnit: 389.31, carbonContentTCPerGJ: 0.01532, oxidationRate: 0.99 } }, electricityTCO2PerMWh: 0.5703, heatTCO2PerGJ: 0.11,
  });
  const unit = units.find((u) => u.uscc === target.party.id);
  const report = (await call("PUT", `/units/${unit.uscc}/reports/${next}`, {
    fuels: [{ fuel: "natural-gas", quantity: Math.round((unit.emissions - 400) / gasPerTonne * 100) / 100, unit: "10^4 Nm3" }], processes: [], purchasedElectricityMWh: 900, purchasedHeatGJ: 0,
    nonFossilElectricityMWh: 0, activity: [{ product: "output-t", quantity: unit.emissions * 2, unit: "t" }], declaration: { signedBy: "张伟", title: "法定代表人" },
  }, token("unit", unit.uscc))).body;
  await approved(await call("POST", `/units/${unit.uscc}/reports/${next}/confirmation`, { confirmedEmissions: report.totalEmissionsT, basis: "adjusted", reason: "Confirmed on the report (demo)." }));
  await call("POST", `/allocation/${next}/verified-allocation`);
  const record = (await call("GET", `/allocation/${next}/units/${unit.uscc}`, undefined, token("unit", unit.uscc))).body;
  log(`${next} verified allocation of ${unit.uscc}: ${record.verified} t, pre-allocated ${record.preAllocated} t, ${record.deductedByDecisions} t deducted for case ${record.deductionDecisions?.[0]}: `
    + `${record.topUp > 0 ? `top-up ${record.topUp} t` : `claw-back ${record.clawBack} t`}`);
}
const check = (await call("GET", "/ledger/check")).body;
log(`Ledger check: ${check.rows.every((r) => r.drift === 0) ? "every product and vintage conserved" : "DRIFT: " + JSON.stringify(check.rows)}`);
const inbox = (await call("GET", "/notifications", undefined, token("unit", keyUnits[0].uscc))).body;
log(`Unit ${keyUnits[0].uscc} has ${inbox.total} notices (${inbox.notifications.slice(0, 4).map((n) => n.subjectZh).join(" | ")} ...); every party's emails are in the local inbox, http://127.0.0.1:5080`);
console.log("\n" + (await call("GET", `/compliance/${year}?format=csv`)).body);

// Where to see the story: the portal opens on the latest year whose cycle has begun (this one, unless an earlier demo ran
// a later year); its sign-in page takes a role and its scope.
const accepted = verifications.find((v) => v.status === "accepted")?.unit;
const who = [
  ["regulator", "", `the ${year} cycle's timeline, compliance by industry and district, emissions and allocation by year, the market, pending approvals and cases`],
  ["district", districtOf(planner), `its checks: unit ${planner.uscc}'s March data (finding, correction request, sign-off) and the list changes`],
  ["unit", planner.uscc, "its report, monthly data corrected on request, allocation, holdings and surrender, notices"],
  ["unit", objector.uscc, "its objection to the allocation (rejected with reasons) and the notices about it"],
  ...(accepted && accepted !== objector.uscc ? [["unit", accepted, "a verified report, its verified allocation and surrender"]] : []),
  ...(target ? [["unit", target.party.id, `non-compliant in ${year}: its enforcement case and the deduction from its ${year + 1} allocation`]] : []),
  ["verifier", verifier, `its ${verified.length} engagements: accepted, flagged, and one statement rejected for naming the wrong year`],
];
console.log(`Open the portal: ${url}/  (the ${year} year: pick it in the 年度 field if another opens). Sign in as (role, scope):`);
for (const [role, scope, what] of who) console.log(`  ${role.padEnd(9)} ${scope.padEnd(19)} ${what}`);
console.log("Every party's emails: http://127.0.0.1:5080 (the inbox address ./scripts/run.sh printed, if it chose another port)");
