export { bundledCatalogDir, parseCatalog, readCatalogs } from './catalog-file.js';
export type { CatalogData } from './catalog-file.js';
