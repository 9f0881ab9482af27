// Tests of bridge-server/src/imaging/sources/guarded-fetch.ts: the addresses a URL import may reach (isPublicAddress).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPublicAddress } from '@impartial/bridge-server';

/** Addresses in each range that is not reachable from anywhere, by the range's name. */
const NOT_PUBLIC: Record<string, string[]> = {
  'IPv4 "this network" 0.0.0.0/8': ['0.0.0.0', '0.1.2.3'],
  'IPv4 private 10.0.0.0/8': ['10.0.0.1', '10.255.255.255'],
  'IPv4 carrier-grade NAT 100.64.0.0/10': ['100.64.0.1', '100.127.255.254'],
  'IPv4 loopback 127.0.0.0/8': ['127.0.0.1', '127.255.0.9'],
  'IPv4 link-local 169.254.0.0/16': ['169.254.169.254'],
  'IPv4 private 172.16.0.0/12': ['172.16.0.1', '172.31.255.255'],
  'IPv4 IETF protocol assignments 192.0.0.0/24': ['192.0.0.8'],
  'IPv4 documentation 192.0.2.0/24': ['192.0.2.1'],
  'IPv4 6to4 relay anycast 192.88.99.0/24': ['192.88.99.1'],
  'IPv4 private 192.168.0.0/16': ['192.168.1.1'],
  'IPv4 benchmarking 198.18.0.0/15': ['198.18.0.1', '198.19.255.255'],
  'IPv4 documentation 198.51.100.0/24': ['198.51.100.7'],
  'IPv4 documentation 203.0.113.0/24': ['203.0.113.99'],
  'IPv4 multicast 224.0.0.0/4': ['224.0.0.1', '239.255.255.250'],
  'IPv4 reserved 240.0.0.0/4': ['240.0.0.1', '250.1.2.3'],
  'IPv4 broadcast': ['255.255.255.255'],
  'IPv6 unspecified and loopback': ['::', '::1', '0:0:0:0:0:0:0:1'],
  'IPv6 IPv4-mapped, of a non-public IPv4': [
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
  ],
  'IPv6 IPv4-translated ::ffff:0:0:0/96 (deprecated, whatever IPv4 it carries)': [
    '::ffff:0:127.0.0.1',
    '::ffff:0:c0a8:101',
    '::ffff:0:8.8.8.8',
  ],
  'IPv6 IPv4-compatible ::/96 (deprecated, whatever IPv4 it carries)': ['::127.0.0.1', '::7f00:1', '::8.8.8.8'],
  'IPv6 NAT64 64:ff9b::/96, of a non-public IPv4': ['64:ff9b::7f00:1', '64:ff9b::10.0.0.1', '64:ff9b::a9fe:a9fe'],
  'IPv6 local-use NAT64 64:ff9b:1::/48': ['64:ff9b:1::1', '64:ff9b:1::808:808', '64:ff9b:1:ffff::1'],
  'IPv6 discard-only 100::/64': ['100::1', '100::ffff:ffff:ffff:ffff'],
  'IPv6 IETF protocol assignments and Teredo 2001::/23': ['2001::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
  'IPv6 documentation 2001:db8::/32': ['2001:db8::1', '2001:db8:ffff::7'],
  'IPv6 6to4 2002::/16, of a non-public IPv4': ['2002:7f00:1::1', '2002:a00:1::', '2002:c0a8:101::1', '2002::1'],
  'IPv6 documentation 3fff::/20': ['3fff::1', '3fff:fff::1'],
  'IPv6 segment routing 5f00::/16': ['5f00::1'],
  'IPv6 unique-local fc00::/7': ['fc00::1', 'fd00::1', 'fdff:ffff::1'],
  'IPv6 link-local fe80::/10': ['fe80::1', 'fe80::1%eth0', 'febf::1'],
  'IPv6 site-local fec0::/10': ['fec0::1', 'feff::1'],
  'IPv6 multicast ff00::/8': ['ff02::1', 'ff0e::1'],
  'IPv6 outside global unicast 2000::/3': ['1::1', '4000::1', 'e000::1'],
  'not an address': ['', 'localhost', 'example.org', '1.2.3', '::g', '256.1.1.1'],
};

/** Public addresses: well-known resolvers and hosts, the edges just outside refused ranges, and what carries them. */
const PUBLIC = [
  '1.1.1.1',
  '8.8.8.8',
  '9.255.255.255',
  '11.0.0.0',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.0.1.255',
  '192.0.3.0',
  '192.167.255.255',
  '192.169.0.0',
  '198.17.255.255',
  '198.20.0.0',
  '198.51.99.255',
  '203.0.114.0',
  '223.255.255.255',
  '2001:4860:4860::8888',
  '2606:4700:4700::1111',
  '2a00:1450:4001:80b::200e',
  '2001:200::1',
  '2001:db9::1',
  '3ffe::1',
  '3fff:1000::1',
  '::ffff:8.8.8.8',
  '::ffff:808:808',
  '64:ff9b::8.8.8.8',
  '64:ff9b::101:101',
  '2002:808:808::1',
];

describe('URL imports reach only public addresses', () => {
  for (const [range, addresses] of Object.entries(NOT_PUBLIC)) {
    it(`refuses ${range}`, () => {
      for (const a of addresses) assert.equal(isPublicAddress(a), false, `${a} is not public`);
    });
  }

  it('allows public IPv4 and IPv6 addresses, also next to the refused ranges and carried in IPv6', () => {
    for (const a of PUBLIC) assert.equal(isPublicAddress(a), true, `${a} is public`);
  });
});
