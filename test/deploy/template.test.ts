/**
 * infra/azuredeploy.json is well formed and keeps its promises: every resource names its
 * type, apiVersion and name; every (type, apiVersion) was checked against Microsoft's
 * published specs (infra/apiVersions.json); no parameter default or output holds a
 * secret; the security posture the issue asks for is there; and every app setting Burst
 * reads is either set by the template or documented as optional with its default.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { ARRAY_ENV, EXIT_URL_ENV } from "../../src/jobSpec.js";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/hostProcess.js";

const text = readFileSync(path.join(ROOT, "infra/azuredeploy.json"), "utf8");
const template = JSON.parse(text);
const checked: { type: string; apiVersion: string; spec: string }[] = JSON.parse(
  readFileSync(path.join(ROOT, "infra/apiVersions.json"), "utf8"),
).pairs;

interface Resource {
  type: string;
  apiVersion: string;
  name: string;
  properties?: any;
  [k: string]: any;
}

/** Every resource, those of nested deployments' inline templates included. */
function allResources(resources: Resource[]): Resource[] {
  return resources.flatMap((r) => [r, ...(r.properties?.template?.resources ? allResources(r.properties.template.resources) : [])]);
}
const resources = allResources(template.resources);
const ofType = (type: string) => resources.filter((r) => r.type === type);
const site = ofType("Microsoft.Web/sites")[0]!;

describe("the ARM template", () => {
  it("is JSON with every resource naming its type, apiVersion and name", () => {
    expect(template.$schema).toMatch(/deploymentTemplate\.json#$/);
    expect(resources.length).toBeGreaterThan(10);
    for (const r of resources) {
      expect(typeof r.type, JSON.stringify(r).slice(0, 120)).toBe("string");
      expect(r.apiVersion, r.type).toMatch(/^\d{4}-\d{2}-\d{2}(-preview)?$/);
      expect(typeof r.name, r.type).toBe("string");
    }
  });

  it("uses only apiVersions checked against Microsoft's published specs", () => {
    const known = new Set(checked.map((c) => `${c.type.toLowerCase()}@${c.apiVersion}`));
    for (const c of checked) expect(c.spec, c.type).toMatch(/^specification\/.+\/stable\/\d{4}-\d{2}-\d{2}\//);
    const unchecked = resources.map((r) => `${r.type.toLowerCase()}@${r.apiVersion}`).filter((k) => !known.has(k));
    expect(unchecked).toEqual([]);
    // reference() calls name an apiVersion too.
    for (const [, type, version] of text.matchAll(/reference\(resourceId\('([^']+)'[^)]*\), '([^']+)'/g))
      expect(known.has(`${type!.toLowerCase()}@${version}`), `${type}@${version}`).toBe(true);
  });

  it("holds no secret in a parameter default or an output", () => {
    for (const [name, p] of Object.entries<any>(template.parameters)) {
      if (p.type.toLowerCase().startsWith("secure")) expect(p.defaultValue ?? "", name).toBe("");
      const value = JSON.stringify(p.defaultValue ?? "");
      expect(value, name).not.toMatch(/AccountKey=|SharedAccessSignature|-----BEGIN|[A-Za-z0-9+/]{40,}={0,2}|listKeys|listSecrets/i);
    }
    for (const [name, o] of Object.entries<any>(template.outputs)) {
      expect(name).not.toMatch(/secret|key|password|connectionString/i);
      expect(JSON.stringify(o.value), name).not.toMatch(/list[A-Z]\w*\(|secretKey|ConnectionString|primaryKey/i);
    }
    expect(template.outputs.apiUrl.value).toMatch(
      /^\[format\('https:\/\/\{0\}\/api', reference\(.*'Microsoft.Web\/sites'.*\.defaultHostName\)\]$/,
    );
  });

  it("keeps storage keyless, TLS 1.2 and private, and signs in with the user-assigned identity", () => {
    const storage = ofType("Microsoft.Storage/storageAccounts")[0]!;
    expect(storage.properties).toMatchObject({ allowSharedKeyAccess: false, minimumTlsVersion: "TLS1_2", allowBlobPublicAccess: false });
    expect(site.kind).toBe("functionapp,linux");
    expect(site.identity.type).toBe("UserAssigned");
    expect(ofType("Microsoft.Web/serverfarms")[0]!.sku).toEqual({ tier: "FlexConsumption", name: "FC1" });
    expect(site.properties.functionAppConfig.runtime).toEqual({ name: "node", version: "22" });
    expect(site.properties.functionAppConfig.deployment.storage.authentication.type).toBe("UserAssignedIdentity");
    const roles = JSON.stringify(ofType("Microsoft.Authorization/roleAssignments"));
    // Storage Blob Data Owner, Storage Queue Data Contributor, Storage Table Data Contributor, Key Vault Secrets User.
    for (const id of [
      "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
      "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
      "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    ])
      expect(JSON.stringify(template.variables.roleIds)).toContain(id);
    expect(roles).toContain("keyVaultSecretsUser");
  });

  it("reads BURST_SECRET_KEY through a Key Vault reference, never a value", () => {
    expect(appSettingsText()).toContain("'BURST_SECRET_KEY', 'value', format('@Microsoft.KeyVault(VaultName={0};SecretName={1})'");
    expect(site.properties.keyVaultReferenceIdentity).toMatch(/userAssignedIdentities/);
  });

  it("sets or documents as optional, with its default, every app setting Burst reads", () => {
    const set = settingsSetByTemplate();
    const documented = documentedSettings();
    const missing = [...settingsBurstReads()].filter((s) => !set.has(s) && !documented.has(s)).sort();
    expect(missing).toEqual([]);
  });
});

function appSettingsText(): string {
  return site.properties.siteConfig.appSettings as string;
}

function settingsSetByTemplate(): Set<string> {
  const names = [...appSettingsText().matchAll(/createObject\('name', '([^']+)'/g)].map((m) => m[1]!);
  expect(names).toContain("AzureWebJobsStorage__credential");
  return new Set(names);
}

/** Settings named in the README's configuration table or a settings table in docs/, with a default (or, for GitHub's, the whole integration being optional). */
function documentedSettings(): Set<string> {
  const out = new Set<string>();
  const docs = [
    path.join(ROOT, "README.md"),
    ...readdirSync(path.join(ROOT, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => path.join(ROOT, "docs", f)),
  ];
  for (const file of docs) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const cells = line.split("|").map((c) => c.trim());
      if (cells.length < 4 || !cells[1]!.startsWith("`")) continue;
      const names = [...cells[1]!.matchAll(/`([A-Za-z][A-Za-z0-9_]*)`(?:\s*\/\s*`?(_[A-Z_]+)`?)*/g)];
      const optional = cells[2] !== "" && !/^(required|yes)$/i.test(cells[2]!) ? true : path.basename(file) === "github.md";
      if (!optional) continue;
      for (const m of names) out.add(m[1]!);
      // "`BURST_AZURITE_BLOB_PORT`/`_QUEUE_PORT`" style rows.
      for (const m of cells[1]!.matchAll(/`(_[A-Z_]+)`/g)) {
        const base = names[0]?.[1]?.replace(/_[A-Z]+_PORT$/, "");
        if (base) out.add(`${base}${m[1]}`);
      }
    }
  }
  return out;
}

/** The app settings the Function App's code reads: src/ outside the local tools (stack, emulator, host, CLI, fakes), and functions/. */
function settingsBurstReads(): Set<string> {
  // The commands for people are not the app (the dev tools live outside src/).
  const local = /^src\/(cli|admin)\//;
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const f of readdirSync(path.join(ROOT, dir))) {
      const rel = `${dir}/${f}`;
      if (statSync(path.join(ROOT, rel)).isDirectory()) walk(rel);
      else if (rel.endsWith(".ts") && !local.test(rel)) files.push(rel);
    }
  };
  walk("src");
  walk("functions");
  const out = new Set<string>();
  for (const f of files) {
    const code = readFileSync(path.join(ROOT, f), "utf8");
    for (const m of code.matchAll(/\benv(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[["'`]([A-Za-z_][A-Za-z0-9_]*)["'`]\])/g)) out.add((m[1] ?? m[2])!);
    for (const m of code.matchAll(/["'`]((?:BURST|WEBSITE|AzureWebJobs)[A-Za-z0-9_]*)["'`]/g)) out.add(m[1]!);
    // storage.ts reads AzureWebJobsStorage__<suffix> through setting("suffix") and the three service URIs.
    for (const m of code.matchAll(/setting\("([A-Za-z]+)"\)/g)) out.add(`AzureWebJobsStorage__${m[1]}`);
    if (/setting\(`\$\{s\}ServiceUri`\)/.test(code))
      for (const s of ["blob", "queue", "table"]) out.add(`AzureWebJobsStorage__${s}ServiceUri`);
  }
  // Not app settings: a prefix and object properties that happen to be called env.
  for (const notSetting of ["BURST_GITHUB_", "github", "log", "webhookSecret", "length"]) out.delete(notSetting);
  // Nor what Burst puts in a container's environment (an array child's index, the exit report's URL).
  for (const containerEnv of [...Object.values(ARRAY_ENV), EXIT_URL_ENV]) out.delete(containerEnv);
  expect(out).toContain("AzureWebJobsStorage__accountName");
  expect(out).toContain("BURST_SECRET_KEY");
  return out;
}
