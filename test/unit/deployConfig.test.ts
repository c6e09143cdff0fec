import { describe, expect, it } from "vitest";
import { deploymentId, describeConfig, loadConfig, ConfigError } from "../../src/config.js";
import { readStorageSettings } from "../../src/storage.js";

describe("the deployment id", () => {
  it("is BURST_DEPLOYMENT_ID when set, else the Function App's name in lower case, else local", () => {
    expect(deploymentId({ BURST_DEPLOYMENT_ID: "team-a", WEBSITE_SITE_NAME: "Burst-Prod" })).toBe("team-a");
    expect(deploymentId({ WEBSITE_SITE_NAME: "Burst-Prod" })).toBe("burst-prod");
    expect(deploymentId({})).toBe("local");
  });

  it("refuses an id that is not a lowercase name, naming the setting, the rule and the value", () => {
    expect(() => deploymentId({ BURST_DEPLOYMENT_ID: "Team A" })).toThrow(ConfigError);
    expect(() => deploymentId({ BURST_DEPLOYMENT_ID: "Team A" })).toThrow(
      /BURST_DEPLOYMENT_ID must be 1-63 lowercase letters, digits or dashes.*got "Team A"/,
    );
    expect(() => deploymentId({ BURST_DEPLOYMENT_ID: "x".repeat(64) })).toThrow(/BURST_DEPLOYMENT_ID/);
  });
});

describe("identity-based storage settings", () => {
  it("take a connection string as before", () => {
    expect(readStorageSettings({ AzureWebJobsStorage: "UseDevelopmentStorage=true" })).toEqual({
      kind: "connectionString",
      connectionString: "UseDevelopmentStorage=true",
    });
  });

  it("derive the three service URLs from AzureWebJobsStorage__accountName", () => {
    expect(readStorageSettings({ AzureWebJobsStorage__accountName: "burstprod" })).toEqual({
      kind: "identity",
      blobUrl: "https://burstprod.blob.core.windows.net",
      queueUrl: "https://burstprod.queue.core.windows.net",
      tableUrl: "https://burstprod.table.core.windows.net",
      credential: "default",
    });
  });

  it("take service URIs and a user-assigned managed identity, as the template sets them", () => {
    const s = readStorageSettings({
      AzureWebJobsStorage__blobServiceUri: "https://x.blob.core.usgovcloudapi.net/",
      AzureWebJobsStorage__queueServiceUri: "https://x.queue.core.usgovcloudapi.net/",
      AzureWebJobsStorage__tableServiceUri: "https://x.table.core.usgovcloudapi.net/",
      AzureWebJobsStorage__credential: "managedidentity",
      AzureWebJobsStorage__clientId: "11111111-2222-3333-4444-555555555555",
    });
    expect(s).toMatchObject({
      kind: "identity",
      tableUrl: "https://x.table.core.usgovcloudapi.net",
      credential: "managedidentity",
      clientId: "11111111-2222-3333-4444-555555555555",
    });
  });

  it("name what is missing or wrong", () => {
    expect(() => readStorageSettings({})).toThrow(/AzureWebJobsStorage is not set: .*AzureWebJobsStorage__accountName/);
    expect(() =>
      readStorageSettings({ AzureWebJobsStorage__blobServiceUri: "https://a", AzureWebJobsStorage__queueServiceUri: "https://b" }),
    ).toThrow(/AzureWebJobsStorage__tableServiceUri is not set/);
    expect(() => readStorageSettings({ AzureWebJobsStorage__accountName: "Not_A_Name" })).toThrow(
      /__accountName must be a storage account name .*got "Not_A_Name"/,
    );
    expect(() => readStorageSettings({ AzureWebJobsStorage__accountName: "ok1", AzureWebJobsStorage__credential: "secret" })).toThrow(
      /__credential must be "managedidentity".*got "secret"/,
    );
    const http = {
      AzureWebJobsStorage__blobServiceUri: "http://127.0.0.1:1/a",
      AzureWebJobsStorage__queueServiceUri: "https://b",
      AzureWebJobsStorage__tableServiceUri: "https://c",
    };
    expect(() => readStorageSettings(http)).toThrow(/__blobServiceUri must be an https URL, got "http:\/\/127\.0\.0\.1:1\/a"/);
  });

  it("are what a command says it acts on, with the deployment id", () => {
    const config = loadConfig({
      AzureWebJobsStorage__accountName: "burstprod",
      AzureWebJobsStorage__credential: "managedidentity",
      WEBSITE_SITE_NAME: "burst-prod",
    });
    expect(describeConfig(config)).toMatch(
      /^storage account burstprod \(tables https:\/\/burstprod\.table\.core\.windows\.net\), signed in with managed identity, prefix burst; .*; deployment burst-prod$/,
    );
  });
});
