/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** ISO 4217 code money is shown in (default USD). */
  readonly VITE_TESSERA_CURRENCY?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
