// The simulated RunPod's price list: a handful of GPU types with memory, secure/community
// prices (USD per GPU-hour, in the range RunPod lists) and stock per data centre.
import { z } from 'zod';

export const GpuOfferSchema = z.object({
  id: z.string().min(1),
  displayName: z.string().min(1),
  memoryInGb: z.number().positive(),
  securePrice: z.number().positive().nullable(),
  communityPrice: z.number().positive().nullable(),
  /** GPUs free per data centre; a create takes `gpuCount` of them until the pod ends. */
  stock: z.record(z.string(), z.number().int().min(0)),
});
export type GpuOffer = z.infer<typeof GpuOfferSchema>;

export const CatalogSchema = z.array(GpuOfferSchema).min(1);

const dcs = (n: number) => ({ 'EU-RO-1': n, 'US-TX-3': n, 'CA-MTL-1': n });

export const DEFAULT_CATALOG: GpuOffer[] = [
  {
    id: 'NVIDIA RTX A4000',
    displayName: 'RTX A4000',
    memoryInGb: 16,
    securePrice: 0.25,
    communityPrice: 0.17,
    stock: dcs(8),
  },
  {
    id: 'NVIDIA GeForce RTX 3090',
    displayName: 'RTX 3090',
    memoryInGb: 24,
    securePrice: 0.43,
    communityPrice: 0.22,
    stock: dcs(8),
  },
  {
    id: 'NVIDIA GeForce RTX 4090',
    displayName: 'RTX 4090',
    memoryInGb: 24,
    securePrice: 0.69,
    communityPrice: 0.34,
    stock: dcs(8),
  },
  {
    id: 'NVIDIA RTX A6000',
    displayName: 'RTX A6000',
    memoryInGb: 48,
    securePrice: 0.49,
    communityPrice: 0.33,
    stock: dcs(8),
  },
  {
    id: 'NVIDIA A100 80GB PCIe',
    displayName: 'A100 PCIe',
    memoryInGb: 80,
    securePrice: 1.64,
    communityPrice: 1.19,
    stock: dcs(8),
  },
  {
    id: 'NVIDIA H100 80GB HBM3',
    displayName: 'H100 SXM',
    memoryInGb: 80,
    securePrice: 2.99,
    communityPrice: 2.39,
    stock: dcs(8),
  },
];
