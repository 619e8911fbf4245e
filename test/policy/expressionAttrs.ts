/** Task attributes for the expression tables and properties. */
export const A = {
  taskType: 'callback',
  priority: 3,
  score: '7',
  hour: '08',
  neg: -2.5,
  zero: 0,
  empty: '',
  hex: '0x10',
  vip: true,
  off: false,
  nothing: null,
  email: 'ann@example.com',
  tags: ['a', 'b', 3],
  nums: [1, 2],
  conversations: { external_contact: '+15551230000', nested: { deep: 'x' } },
  calls: [{ sid: 'CA1' }, { sid: 'CA2' }],
};
