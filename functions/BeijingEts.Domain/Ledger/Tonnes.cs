using System.Text.Json;
using System.Text.Json.Serialization;

namespace BeijingEts.Domain.Ledger;

/// <summary>A quantity of CO2 in whole tonnes (Art. 35). Allowances and reductions never come in fractions.</summary>
[JsonConverter(typeof(TonnesJsonConverter))]
public readonly record struct Tonnes(long Value) : IComparable<Tonnes>
{
    public static readonly Tonnes Zero = new(0);

    public static Tonnes operator +(Tonnes a, Tonnes b) => new(checked(a.Value + b.Value));
    public static Tonnes operator -(Tonnes a, Tonnes b) => new(checked(a.Value - b.Value));
    public static Tonnes operator -(Tonnes a) => new(checked(-a.Value));
    public static bool operator <(Tonnes a, Tonnes b) => a.Value < b.Value;
    public static bool operator >(Tonnes a, Tonnes b) => a.Value > b.Value;
    public static bool operator <=(Tonnes a, Tonnes b) => a.Value <= b.Value;
    public static bool operator >=(Tonnes a, Tonnes b) => a.Value >= b.Value;

    public int CompareTo(Tonnes other) => Value.CompareTo(other.Value);

    public override string ToString() => $"{Value} t";
}

/// <summary>Tonnes are a JSON whole number; a fraction or a string is refused.</summary>
public sealed class TonnesJsonConverter : JsonConverter<Tonnes>
{
    public override Tonnes Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value)
            ? new Tonnes(value)
            : throw new JsonException("The JSON value could not be converted to System.Int64.");

    public override void Write(Utf8JsonWriter writer, Tonnes value, JsonSerializerOptions options) => writer.WriteNumberValue(value.Value);
}
