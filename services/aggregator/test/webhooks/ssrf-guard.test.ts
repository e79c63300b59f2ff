// SSRF: destinations on loopback, private, link-local and metadata addresses are refused at
// connect time, after name resolution, and redirects are not followed. The receivers of these
// tests run on 127.0.0.1, so tests that need one allow loopback explicitly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { embeddedIPv4, parseAllowList, refusalReason } from '../../src/webhooks/ssrf-guard.js';
import { WebhookSender } from '../../src/webhooks/webhook-sender.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

describe('SSRF guard', () => {
  it('classifies addresses, IPv4-mapped and NAT64 included', () => {
    for (const bad of [
      '127.0.0.1',
      '127.1.2.3',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      'fc00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:169.254.169.254',
      '64:ff9b::a9fe:a9fe',
      '::127.0.0.1',
      'ff02::1',
    ]) {
      assert.ok(refusalReason(bad) !== undefined, `${bad} must be refused`);
    }
    for (const good of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34', '8.8.8.8']) {
      assert.equal(refusalReason(good), undefined, `${good} is public`);
    }
    assert.equal(embeddedIPv4('::ffff:7f00:1'), '127.0.0.1');
    const allow = parseAllowList(['127.0.0.0/8', '::1/128']);
    assert.equal(refusalReason('127.0.0.1', allow), undefined);
    assert.equal(refusalReason('::ffff:127.0.0.1', allow), undefined);
    assert.equal(refusalReason('::1', allow), undefined);
    assert.ok(refusalReason('10.0.0.1', allow) !== undefined);
    assert.throws(() => parseAllowList(['10.0.0.0/33']), /prefix/);
  });

  describe('refused at connect time', () => {
    const receiver = new WebhookReceiver();
    let url = '';
    before(async () => {
      url = await receiver.start();
    });
    after(() => receiver.stop());

    const port = () => receiver.port;

    it('refuses 127.0.0.1, [::1] and 169.254.169.254 literals without connecting', async () => {
      const sender = new WebhookSender();
      for (const target of [
        `http://127.0.0.1:${port()}/hook`,
        `http://[::1]:${port()}/hook`,
        'http://169.254.169.254/latest/meta-data/',
        `http://[::ffff:127.0.0.1]:${port()}/`,
      ]) {
        const r = await sender.send(target, {}, '{}', 2000);
        assert.equal(r.refused, true, target);
        assert.equal(r.status, null);
      }
      sender.close();
      assert.equal(receiver.received.length, 0, 'nothing reached the receiver');
    });

    it('refuses a name that resolves to a private or loopback address', async () => {
      const resolved: string[] = [];
      const sender = new WebhookSender({
        resolver: (host) => {
          resolved.push(host);
          return Promise.resolve(
            host === 'internal.example.com'
              ? [{ address: '10.0.0.7', family: 4 }]
              : [{ address: '127.0.0.1', family: 4 }],
          );
        },
      });
      const a = await sender.send('http://internal.example.com/hook', {}, '{}', 2000);
      assert.equal(a.refused, true);
      assert.match(a.error ?? '', /10\.0\.0\.7/);
      const b = await sender.send(`http://rebind.example.com:${port()}/hook`, {}, '{}', 2000);
      assert.equal(b.refused, true);
      sender.close();
      assert.deepEqual(resolved, ['internal.example.com', 'rebind.example.com'], 'resolved by the guard');
      assert.equal(receiver.received.length, 0);
    });

    it('connects to an allowed name and does not follow a redirect to the metadata address', async () => {
      receiver.respond = () => [302, { location: 'http://169.254.169.254/latest/meta-data/' }];
      const sender = new WebhookSender({
        allow: parseAllowList(['127.0.0.1/32']),
        resolver: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]),
      });
      const r = await sender.send(`http://hooks.example.com:${port()}/hook`, {}, '{"x":1}', 2000);
      sender.close();
      assert.equal(r.refused, false);
      assert.equal(r.status, 302, 'the redirect is a failed delivery, not followed');
      assert.equal(receiver.received.length, 1);
      assert.equal(url.startsWith('http://127.0.0.1'), true);
    });
  });
});
