export default function Thanks() {
  return <p>Thank you. Your reference is on its way to Fred.</p>;
}
