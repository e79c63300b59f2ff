import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PriceMessage } from '@costtrace/proto';
import { priceFromWire, priceToWire } from '@costtrace/proto/pricing';
import { bundledCatalogDir, readCatalogs } from '@costtrace/catalog';

// The mapping itself is tested in packages/proto/test/pricing; this checks pricing-cache's own
// bundled catalogs survive it.
describe('bundled catalogs on the wire', () => {
  it('round-trips every bundled price through the protobuf encoding exactly', async () => {
    const { prices } = await readCatalogs(bundledCatalogDir());
    for (const price of prices) {
      const bytes = PriceMessage.encode(priceToWire(price)).finish();
      const back = priceFromWire(PriceMessage.decode(bytes));
      assert.deepEqual({ ...back, amount: back.amount.toString() }, { ...price, amount: price.amount.toString() });
    }
  });
});
