// The tenant object's schema is one ordered list: every concern's step appears once, in the listed order,
// and a step no list places (or a listed name no concern defines) stops the object from starting.
import { describe, expect, it } from "vitest";
import { inOrder, TENANT_OBJECT_MIGRATIONS } from "../../src/tenant-object/migrations";

describe("tenant object migrations", () => {
  it("applies every step once, tasks/1 first and each concern's steps in their own order", () => {
    const names = TENANT_OBJECT_MIGRATIONS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names[0]).toBe("tasks/1");
    expect(names.indexOf("tasks/2")).toBeLessThan(names.indexOf("quota/2"));
    expect(names.indexOf("quota/1")).toBeLessThan(names.indexOf("quota/2"));
  });

  it("refuses a step that is not placed, and a placed name that no concern defines", () => {
    const a = { name: "a/1", sql: "" };
    const b = { name: "b/1", sql: "" };
    expect(inOrder([b, a], ["a/1", "b/1"]).map((m) => m.name)).toEqual(["a/1", "b/1"]);
    expect(() => inOrder([a, b], ["a/1"])).toThrow(/b\/1/);
    expect(() => inOrder([a], ["a/1", "c/1"])).toThrow(/c\/1/);
  });
});
