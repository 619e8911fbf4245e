// Every workflow the worker runs: one re-export line per workflow module.
export * from './sweep';
export * from './callWatch';
export * from './linker';
