import { TableClient } from "@azure/data-tables";
const [cs, prefix] = process.argv.slice(2);
const jobs = TableClient.fromConnectionString(cs, `${prefix}Jobs`, { allowInsecureConnection: true });
const states = {}; const reasons = {};
for await (const e of jobs.listEntities({ queryOptions: { select: ["state", "doc0"] } })) { states[e.state] = (states[e.state] ?? 0) + 1; if (e.state !== "Succeeded") { const r = (JSON.parse(e.doc0).reason ?? "").slice(0, 60); reasons[e.state + ": " + r] = (reasons[e.state + ": " + r] ?? 0) + 1; } }
console.log(states); console.log(Object.entries(reasons).sort((a,b)=>b[1]-a[1]).slice(0,12));
const ledger = TableClient.fromConnectionString(cs, `${prefix}Ledger`, { allowInsecureConnection: true });
for await (const e of ledger.listEntities({ queryOptions: { filter: "PartitionKey eq '~placements'" } })) { const u = JSON.parse(e.use); console.log(e.rowKey, "holders", Object.keys(u.holders).length, "creates", u.creates.reduce((a,b)=>a+b[1],0), "deletes", (u.deletes??[]).reduce((a,b)=>a+b[1],0), JSON.stringify(u.breakers).slice(0,100)); }
