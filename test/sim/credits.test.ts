// The operator's account on the simulator: GET /v1/credits in EvoLink's shape (checked against
// files/openapi-get-credits.json when the contract is at hand), the balance set through /__sim/credits,
// settled as tasks complete, and the 402 a creation gets when its reservation would overdraw it.
import { describe, expect, it } from "vitest";
import { validateWith } from "../../sim/src/contract";
import { UNLIMITED_BALANCE_CREDITS } from "../../sim/src/credits";
import type { UpstreamSimulator } from "../../sim/src/core";
import { API_KEY, BASE, contract, createRequest, errorOf, makeSim, validBody } from "./helpers";

const CREDITS_FILE = "files/openapi-get-credits.json";
/** validBody(): one reference clip (5 s in) + 5 s out at 720p with audio = 10 s × 2.38. */
const ONE = 23.8;

function control(method: string, path: string, body?: unknown): Request {
  return new Request(`http://127.0.0.1:8788${path}`, {
    method,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

async function credits(sim: UpstreamSimulator, key = API_KEY): Promise<Response> {
  return sim.fetch(new Request(`${BASE}/v1/credits`, { headers: { authorization: `Bearer ${key}` } }));
}

/** The 200 answer's body, held to EvoLink's schema first. */
async function balance(sim: UpstreamSimulator) {
  const res = await credits(sim);
  expect(res.status).toBe(200);
  const body = (await res.json()) as {
    data: {
      token: { remaining_credits: number; unlimited_credits: boolean; used_credits: number };
      user: { remaining_credits: number; used_credits: number };
    };
  };
  if (contract) expect(validateWith(contract, CREDITS_FILE, "CreditsResponse", body)).toEqual([]);
  expect(body).toMatchObject({ message: "", success: true });
  return body.data;
}

async function setBalance(sim: UpstreamSimulator, value: number | null) {
  const res = await sim.fetch(control("POST", "/__sim/credits", { balance: value }));
  expect(res.status).toBe(200);
  return res.json();
}

describe("simulator GET /v1/credits and the operator's balance", () => {
  it("answers an unlimited account by default, in EvoLink's shape, and counts what completed tasks used", async () => {
    const { sim, clock } = makeSim();
    expect(await balance(sim)).toEqual({
      token: { remaining_credits: UNLIMITED_BALANCE_CREDITS, unlimited_credits: true, used_credits: 0 },
      user: { remaining_credits: UNLIMITED_BALANCE_CREDITS, used_credits: 0 },
    });
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(200);
    clock.advance(5_000);
    expect((await balance(sim)).user).toEqual({
      remaining_credits: UNLIMITED_BALANCE_CREDITS,
      used_credits: ONE,
    });
  });

  it("decreases the balance as tasks complete, by the credits each used; failed and cancelled tasks cost nothing", async () => {
    const { sim, clock } = makeSim();
    expect(await setBalance(sim, 100)).toEqual({ balance: 100, used: 0, reserved: 0 });
    for (const prompt of ["ok", "[sim:fail] no", "[sim:cancel] no"])
      expect((await sim.fetch(createRequest(validBody({ prompt })))).status).toBe(200);
    // Reserved, not yet used: the balance falls on completion, as EvoLink settles after it.
    expect(await (await sim.fetch(control("GET", "/__sim/credits"))).json()).toEqual({
      balance: 100,
      used: 0,
      reserved: 3 * ONE,
    });
    expect((await balance(sim)).user).toEqual({ remaining_credits: 100, used_credits: 0 });
    clock.advance(5_000);
    expect(await balance(sim)).toEqual({
      token: { remaining_credits: 76.2, unlimited_credits: true, used_credits: ONE },
      user: { remaining_credits: 76.2, used_credits: ONE },
    });
    expect(await (await sim.fetch(control("GET", "/__sim/credits"))).json()).toEqual({
      balance: 76.2,
      used: ONE,
      reserved: 0,
    });
  });

  it("refuses with EvoLink's 402 insufficient_quota a creation whose reservation would overdraw the balance less open reservations", async () => {
    const { sim, clock } = makeSim();
    await setBalance(sim, 2 * ONE + 1);
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(200);
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(200);
    const refused = await sim.fetch(createRequest(validBody()));
    expect(refused.status).toBe(402);
    expect(await errorOf(refused)).toEqual({
      code: "insufficient_quota",
      message: "Insufficient quota. Please top up your account.",
      type: "insufficient_quota",
    });
    // Not even the minimum charge (9 credits) fits in the 1 credit left beside the two open reservations.
    expect((await sim.fetch(createRequest(validBody({ generate_audio: false, duration: 2 })))).status).toBe(
      402,
    );
    expect(sim.tasks()).toHaveLength(2);
    // Once both complete, what is left (1 credit) covers nothing; topped up, the next one fits exactly.
    clock.advance(5_000);
    expect((await balance(sim)).user.remaining_credits).toBe(1);
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(402);
    await setBalance(sim, ONE);
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(200);
  });

  it("needs the key, as the other routes do, and answers the legacy error shape of its file", async () => {
    const { sim } = makeSim();
    const res = await credits(sim, "sk-wrong");
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body).toEqual({
      error: { code: 401, message: "Invalid or expired token", type: "authentication_error" },
    });
    if (contract) expect(validateWith(contract, CREDITS_FILE, "ErrorResponse", body)).toEqual([]);
    expect(
      (
        await sim.fetch(
          new Request(`${BASE}/v1/credits`, {
            method: "POST",
            headers: { authorization: `Bearer ${API_KEY}` },
          }),
        )
      ).status,
    ).toBe(405);
  });

  it("sets the balance through /__sim/credits (null = unlimited), refuses a bad one, and reset makes it unlimited", async () => {
    const { sim, clock } = makeSim();
    for (const bad of [{ balance: -1 }, { balance: "10" }, {}, { balance: 1, extra: true }, []]) {
      const res = await sim.fetch(control("POST", "/__sim/credits", bad));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
    }
    await setBalance(sim, 0);
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(402);
    await setBalance(sim, null);
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(200);
    clock.advance(5_000);
    await setBalance(sim, 5);
    expect(await (await sim.fetch(control("GET", "/__sim/credits"))).json()).toEqual({
      balance: 5,
      used: ONE,
      reserved: 0,
    });
    expect((await sim.fetch(control("POST", "/__sim/reset"))).status).toBe(200);
    expect(await (await sim.fetch(control("GET", "/__sim/credits"))).json()).toEqual({
      balance: null,
      used: 0,
      reserved: 0,
    });
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(200);
  });
});
