import { RestError } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import { errorMessage } from "../../src/errors.js";

describe("the words a failure is logged with", () => {
  it("are the error's own message when it has one", () => {
    expect(errorMessage(new Error("queue unavailable"))).toBe("queue unavailable");
    expect(errorMessage("plain words")).toBe("plain words");
  });

  it("name the error, its status and its code when the service answered without a message", () => {
    expect(errorMessage(new RestError("", { statusCode: 500, code: "InternalError" }))).toBe(
      "RestError without a message (status 500, code InternalError)",
    );
    expect(errorMessage(new RestError("", { code: "ECONNRESET" }))).toBe("RestError without a message (code ECONNRESET)");
    expect(errorMessage(new Error(""))).toBe("Error without a message");
  });
});
