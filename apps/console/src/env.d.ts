/// <reference types="vite/client" />

// The typed client streams request bodies with `duplex: 'half'` (Fetch standard; in Node's
// types, not yet in TypeScript's DOM library).
interface RequestInit {
  duplex?: 'half';
}
