namespace BeijingEts.Domain.Lists;

/// <summary>
/// The 18-character unified social credit code (统一社会信用代码, GB 32100-2015): 17 characters and a check
/// character computed over them with weights 3^i mod 31 from the 31-character alphabet that leaves out I, O, S, V, Z.
/// </summary>
public readonly record struct Uscc
{
    public const string Alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    private static readonly int[] Weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

    private Uscc(string value) => Value = value;

    public string Value { get; }

    public override string ToString() => Value;

    /// <summary>Parses a code, or says exactly what is wrong with it.</summary>
    public static bool TryParse(string? text, out Uscc uscc, out string error)
    {
        uscc = default;
        var code = text?.Trim().ToUpperInvariant() ?? "";
        if (code.Length != 18)
        {
            error = $"'{text}' has {code.Length} characters; a unified social credit code has 18.";
            return false;
        }
        for (var i = 0; i < 18; i++)
        {
            if (!Alphabet.Contains(code[i], StringComparison.Ordinal))
            {
                error = $"'{text}' has '{code[i]}' at position {i + 1}; a unified social credit code uses only digits and the letters {Alphabet[10..]}.";
                return false;
            }
        }
        var expected = CheckCharacter(code.AsSpan(0, 17));
        if (code[17] != expected)
        {
            error = $"'{text}' has the wrong check character '{code[17]}' (GB 32100-2015 gives '{expected}' for the first 17 characters); check the code for a typing error.";
            return false;
        }
        uscc = new Uscc(code);
        error = "";
        return true;
    }

    public static Uscc Parse(string text) =>
        TryParse(text, out var uscc, out var error) ? uscc : throw new FormatException(error);

    /// <summary>The check character for the first 17 characters of a code.</summary>
    public static char CheckCharacter(ReadOnlySpan<char> first17)
    {
        var sum = 0;
        for (var i = 0; i < 17; i++)
        {
            sum += Alphabet.IndexOf(first17[i], StringComparison.Ordinal) * Weights[i];
        }
        return Alphabet[(31 - sum % 31) % 31];
    }
}
