// bulkhead builds a template database from these migrations once (again only when they change) and gives each
// worker its own copy of it, so the suite runs in parallel without the specs knowing about each other.
export default {
  setup: './migrations',
};
