import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";

// The password of an encrypted PDF (app.py asks for it with AskElementMessage). It goes back
// only as the answer to that question, never as a chat message: it is not shown in the chat,
// not saved with it, and never part of what a model is sent.
export default function PasswordPrompt() {
  const [password, setPassword] = useState("");
  const submit = (event) => {
    event.preventDefault();
    if (password) submitElement({ password });
  };
  return (
    <form onSubmit={submit} className="flex w-full max-w-md items-center gap-2">
      <Input
        type="password"
        name="pdf-password"
        autoComplete="off"
        autoFocus
        aria-label={`Password of ${props.file}`}
        placeholder="Password"
        value={password}
        onChange={(event) => setPassword(event.target.value)}
      />
      <Button type="submit" disabled={!password}>Open</Button>
      <Button type="button" variant="outline" onClick={() => cancelElement()}>Skip</Button>
    </form>
  );
}
