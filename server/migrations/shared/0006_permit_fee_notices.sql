-- The pagoPA notice opened for a permit's fees (Payments' debt position, one per group of fees
-- due together): which position and notice number, so the application shows what to pay.
-- NULL: no notice (the municipality does not collect through this installation's pagoPA
-- station, or the fees were recorded before notices were opened automatically).

ALTER TABLE permit_fees ADD COLUMN position_id TEXT;
ALTER TABLE permit_fees ADD COLUMN notice_number TEXT;
