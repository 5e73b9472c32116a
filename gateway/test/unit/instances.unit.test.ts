import { createLogger } from '@shop/platform';
import { eventually } from '@shop/platform/testing';
import { serviceInstances, type ServiceInstances } from '../../src/proxy/instances';

// Never contacted: nothing here probes (the background probe's interval is longer than any test).
const [A, B] = ['http://a.invalid:8001', 'http://b.invalid:8011'];

describe('the instances of a service behind the gateway', () => {
  const opened: ServiceInstances[] = [];
  const instancesOf = (urls: string[], coolDownMs = 60_000) => {
    const instances = serviceInstances({
      service: 'product-service',
      urls,
      probeTimeoutMs: 100,
      logger: createLogger('test', 'error'),
      coolDownMs,
      probeIntervalMs: 600_000,
    });
    opened.push(instances);
    return instances;
  };
  const picks = (instances: ServiceInstances, count: number) =>
    Array.from({ length: count }, () => instances.pick());
  afterEach(() => opened.splice(0).forEach((instances) => instances.close()));

  it('requests take the instances in turn', () => {
    expect(picks(instancesOf([A, B]), 4)).toEqual([A, B, A, B]);
  });

  it('an instance that could not be connected to gets no requests until its cool-down ends, then gets its turn again', async () => {
    // Arrange
    const instances = instancesOf([A, B], 200);

    // Act
    instances.unreachable(A, 'ECONNREFUSED');

    // Assert: out at once, back once the cool-down has passed.
    expect(picks(instances, 4)).toEqual([B, B, B, B]);
    await eventually(() => expect(picks(instances, 2)).toContain(A), { intervalMs: 20 });
  });

  it('when every instance is out, requests still go to them in turn: one that may work beats a sure 503', () => {
    const instances = instancesOf([A, B]);

    instances.unreachable(A, 'ECONNREFUSED');
    instances.unreachable(B, 'ECONNREFUSED');

    expect(picks(instances, 4)).toEqual([A, B, A, B]);
  });

  it('a request is never offered an instance it has tried, out or not, and none once it has tried them all', () => {
    const instances = instancesOf([A, B]);
    instances.unreachable(B, 'ECONNREFUSED');

    expect(instances.pick(new Set([A]))).toBe(B);
    expect(instances.pick(new Set([A, B]))).toBeUndefined();
  });
});
