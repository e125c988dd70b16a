/** The two ends of a site's replication: the edge store it reads, the core bucket it lands in. */
export type Side = 'edge' | 'core';
