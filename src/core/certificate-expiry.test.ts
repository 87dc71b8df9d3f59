import { describe, expect, it } from "vitest";
import { createCertificateExpiryWatch, type CertificateExpiring } from "./certificate-expiry.js";

const DAY = 24 * 60 * 60 * 1000;
const T0 = new Date("2026-11-26T00:00:00Z");

function setup() {
  let clock = T0;
  const events: CertificateExpiring[] = [];
  const watch = createCertificateExpiryWatch({ onCertificateExpiring: (e) => events.push(e), now: () => clock });
  return { watch, events, advance: (days: number) => (clock = new Date(clock.getTime() + days * DAY)) };
}

describe("certificate expiry watch", () => {
  it("ok/far: a certificate with 90 days left is listed, not reported", () => {
    const { watch, events } = setup();
    watch.observe("gateway", "AA", new Date(T0.getTime() + 90 * DAY));
    expect(events).toEqual([]);
    expect(watch.snapshot()).toEqual([{ subject: "gateway", serial: "AA", notAfter: new Date(T0.getTime() + 90 * DAY), daysLeft: 90 }]);
  });

  it("ok/thresholds: 30, 7 and 1 days are each reported once as the clock advances", () => {
    const { watch, events, advance } = setup();
    watch.observe("spiffe://td/agency/a", "01", new Date(T0.getTime() + 40 * DAY));
    advance(10);
    watch.check();
    watch.check();
    advance(23);
    watch.check();
    advance(6.5);
    watch.check();
    expect(events.map((e) => [e.thresholdDays, e.daysLeft])).toEqual([
      [30, 30],
      [7, 7],
      [1, 0],
    ]);
  });

  it("ok/first-sight: a certificate seen with 5 days left is reported once at 7, not at 30 too", () => {
    const { watch, events } = setup();
    watch.observe("spiffe://td/agency/b", "02", new Date(T0.getTime() + 5 * DAY));
    watch.observe("spiffe://td/agency/b", "02", new Date(T0.getTime() + 5 * DAY));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ subject: "spiffe://td/agency/b", thresholdDays: 7, daysLeft: 5 });
  });

  it("ok/renewed: a new certificate replaces the old one and starts afresh", () => {
    const { watch, events } = setup();
    watch.observe("gateway", "01", new Date(T0.getTime() + 3 * DAY));
    watch.observe("gateway", "02", new Date(T0.getTime() + 365 * DAY));
    expect(events).toHaveLength(1);
    expect(watch.snapshot()).toHaveLength(1);
    expect(watch.snapshot()[0]!.serial).toBe("02");
  });
});
