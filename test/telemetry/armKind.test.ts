import { describe, expect, it } from "vitest";
import { armCallKind } from "../../src/telemetry/telemetry.js";

const group =
  "https://management.azure.com/subscriptions/0000/resourceGroups/rg-1/providers/Microsoft.ContainerInstance/containerGroups/burst-j1abc-1";

describe("the kind label of an ARM call", () => {
  it("is the method and the resource type, never a name or an id", () => {
    expect(armCallKind("put", `${group}?api-version=2023-05-01`)).toBe("PUT containerGroups");
    expect(armCallKind("GET", `${group}/containers/main/logs?tail=10`)).toBe("GET logs");
    expect(armCallKind("POST", `${group}/stop`)).toBe("POST stop");
    expect(
      armCallKind(
        "GET",
        "https://management.azure.com/subscriptions/0000/providers/Microsoft.ContainerInstance/locations/eastus/operations/abc-123",
      ),
    ).toBe("GET operations");
    expect(
      armCallKind(
        "GET",
        "https://management.azure.com/subscriptions/0000/resourceGroups/rg-1/providers/Microsoft.ContainerInstance/containerGroups",
      ),
    ).toBe("GET containerGroups");
    expect(armCallKind("POST", "https://management.azure.com/subscriptions/0000/providers/Microsoft.CostManagement/query")).toBe(
      "POST query",
    );
    expect(armCallKind("GET", "https://management.azure.com/something/else/entirely")).toBe("GET other");
  });
});
