// The days a social report covers, as its `from` / `to` query (both included, either open).
export interface Period {
  from?: string | null;
  to?: string | null;
}
